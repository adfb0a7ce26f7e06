"""The transformers backend on a tiny randomly initialised LLaVA built offline in the test.

The model's output is gibberish by design; the test checks that loading, the chat template,
image preprocessing, generation and decoding run through the real transformers code paths.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lrsgro.eval.runlog import read_predictions
from lrsgro.eval.runner import EvalSettings, run_eval
from tests.eval_support import rl_record, write_geotiff, write_jsonl

SKIP_REASON = "torch or transformers is not installed; install the local extra: pip install lrsgro[local]"

CHAT_TEMPLATE = (
    "{% for message in messages %}<|{{ message['role'] }}|>"
    "{% if message['content'] is string %}{{ message['content'] }}{% else %}"
    "{% for part in message['content'] %}{% if part['type'] == 'image' %}<image>"
    "{% else %}{{ part['text'] }}{% endif %}{% endfor %}{% endif %}<|end|>{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)


def build_tiny_llava(folder: Path) -> Path:
    """Save a 2-layer LLaVA (CLIP vision tower + Llama) with a byte-level tokenizer to ``folder``."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import (
        CLIPImageProcessor,
        CLIPVisionConfig,
        LlamaConfig,
        LlavaConfig,
        LlavaForConditionalGeneration,
        LlavaProcessor,
        PreTrainedTokenizerFast,
    )

    torch.manual_seed(0)
    byte_vocab = {token: index for index, token in enumerate(pre_tokenizers.ByteLevel.alphabet())}
    specials = ["<pad>", "<s>", "</s>", "<image>", "<|user|>", "<|assistant|>", "<|end|>"]
    for token in specials:
        byte_vocab[token] = len(byte_vocab)
    core = Tokenizer(models.BPE(vocab=byte_vocab, merges=[]))
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=core, pad_token="<pad>", bos_token="<s>", eos_token="</s>",
        additional_special_tokens=specials[3:],
    )
    tokenizer.chat_template = CHAT_TEMPLATE

    vision = CLIPVisionConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                              image_size=28, patch_size=14, projection_dim=32)
    text = LlamaConfig(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                       num_key_value_heads=4, vocab_size=len(byte_vocab), max_position_embeddings=512,
                       pad_token_id=byte_vocab["<pad>"], bos_token_id=byte_vocab["<s>"], eos_token_id=byte_vocab["</s>"])
    config = LlavaConfig(vision_config=vision, text_config=text, image_token_index=byte_vocab["<image>"],
                         vision_feature_select_strategy="default", vision_feature_layer=-1)
    model = LlavaForConditionalGeneration(config).eval()

    image_processor = CLIPImageProcessor(size={"shortest_edge": 28}, crop_size={"height": 28, "width": 28})
    processor = LlavaProcessor(
        image_processor=image_processor, tokenizer=tokenizer, patch_size=14, vision_feature_select_strategy="default",
        image_token="<image>", num_additional_image_tokens=1, chat_template=CHAT_TEMPLATE,
    )
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


@pytest.mark.slow
def test_tiny_llava_direct_and_zoom(tmp_path: Path) -> None:
    pytest.importorskip("torch", reason=SKIP_REASON)
    pytest.importorskip("transformers", reason=SKIP_REASON)
    weights = build_tiny_llava(tmp_path / "tiny-llava")
    write_geotiff(tmp_path / "image" / "0001.tif", (640, 480))
    records = [
        rl_record("x1", "0001.tif", "Counting", "How many ships are there?", "2", "global", None, split="test"),
        rl_record("x2", "0001.tif", "Object color / pattern", "What color is the roof?", "red", "object",
                  [100, 100, 200, 200], split="test"),
    ]
    data = write_jsonl(tmp_path / "test.jsonl", records)
    config = tmp_path / "tiny.yaml"
    config.write_text(
        f"backend: transformers\nserved_model: {weights}\nview_side: 64\ncrop_side: 64\ndirect_side: 64\n"
        "decoding:\n  max_tokens: 6\n",
        encoding="utf-8",
    )

    for protocol in ("direct", "zoom"):
        out = tmp_path / protocol
        summary = run_eval(EvalSettings(data=data, model=str(config), protocol=protocol, out=out, resamples=0))
        assert summary.answered + summary.failed == 2
        records_written = read_predictions(out / "predictions.jsonl")
        assert all(record.ok for record in records_written), [r.error for r in records_written]
        assert all(record.completion_tokens is not None and 0 < record.completion_tokens <= 6 for record in records_written)
        assert all(record.prompt_tokens and record.prompt_tokens > 10 for record in records_written)

    manifest = json.loads((tmp_path / "zoom" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["backend"] == "transformers"
    assert manifest["served_model"] == str(weights)


def test_missing_torch_message_names_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    from lrsgro.errors import InputError
    from lrsgro.eval.backends.local_transformers import TransformersBackend
    from lrsgro.eval.config import Decoding

    real_import = builtins.__import__

    def without_torch(name, *args, **kwargs):
        if name == "torch" or name.startswith("torch."):
            raise ImportError("No module named 'torch'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", without_torch)
    with pytest.raises(InputError, match=r"lrsgro\[local\]"):
        TransformersBackend(tmp_path, Decoding())
