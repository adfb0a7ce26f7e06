"""The ``transformers`` backend: local weights through AutoProcessor and AutoModelForImageTextToText.

Imported only when a ``transformers:PATH`` model is used, so lrsgro works without torch. The
model runs on the GPU when torch sees one, else on the CPU. Generation holds a lock, so
``--concurrency`` above 1 queues requests instead of running them in parallel.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

from lrsgro.errors import InputError
from lrsgro.eval.backends.base import BackendError, ChatRequest, Completion, ImagePart
from lrsgro.eval.config import Decoding

logger = logging.getLogger(__name__)

INSTALL_FIX = "install the local extra with `pip install lrsgro[local]` (torch and transformers)"


class TransformersBackend:
    """A local vision-language model.

    Args:
        path: a folder with the weights, config and processor files.
        decoding: sampling settings; temperature 0 means greedy decoding.

    Raises:
        InputError: torch or transformers is missing, or ``path`` contains no model.
    """

    name = "transformers"

    def __init__(self, path: Path, decoding: Decoding) -> None:
        try:
            import torch
            from transformers import AutoModelForImageTextToText, AutoProcessor
        except ImportError as error:
            raise InputError(f"the transformers backend needs torch and transformers ({error})", fix=INSTALL_FIX) from None

        if not path.is_dir():
            raise InputError("model folder not found", path=path, fix="give transformers:PATH with a local weights folder")

        self.path = path
        self.decoding = decoding
        self.device = "cuda" if torch.cuda.is_available() else "cpu"
        self._torch = torch
        self._lock = threading.Lock()
        try:
            self.processor = AutoProcessor.from_pretrained(str(path))
            self.model = AutoModelForImageTextToText.from_pretrained(str(path), dtype="auto").to(self.device)
        except (OSError, ValueError) as error:
            raise InputError(f"cannot load the model: {error}", path=path) from error
        self.model.eval()
        logger.info("loaded %s on %s", path, self.device)

    def complete(self, request: ChatRequest, timeout_s: float) -> Completion:
        # NOTE: local generation cannot be interrupted, so timeout_s is not enforced here;
        # max_tokens bounds the work instead.
        from PIL import Image

        conversation = []
        for message in request.messages:
            content: list[dict[str, Any]] = []
            for part in message.parts:
                if isinstance(part, ImagePart):
                    content.append({"type": "image", "image": Image.fromarray(part.pixels)})
                else:
                    content.append({"type": "text", "text": part.text})
            conversation.append({"role": message.role, "content": content})

        start = time.monotonic()
        with self._lock:
            try:
                inputs = self.processor.apply_chat_template(
                    conversation,
                    add_generation_prompt=not request.continue_final,
                    continue_final_message=request.continue_final,
                    tokenize=True,
                    return_dict=True,
                    return_tensors="pt",
                ).to(self.device)
                generate_args: dict[str, Any] = {"max_new_tokens": self.decoding.max_tokens}
                if self.decoding.temperature > 0:
                    generate_args.update(do_sample=True, temperature=self.decoding.temperature)
                    if self.decoding.top_p is not None:
                        generate_args["top_p"] = self.decoding.top_p
                else:
                    generate_args["do_sample"] = False
                if self.decoding.seed is not None:
                    self._torch.manual_seed(self.decoding.seed)

                with self._torch.inference_mode():
                    output = self.model.generate(**inputs, **generate_args)
            except (RuntimeError, ValueError) as error:
                raise BackendError(f"local generation failed: {error}", "request") from error

        prompt_length = int(inputs["input_ids"].shape[1])
        new_tokens = output[:, prompt_length:]
        text = self.processor.batch_decode(new_tokens, skip_special_tokens=True)[0]
        return Completion(
            text=text,
            prompt_tokens=prompt_length,
            completion_tokens=int(new_tokens.shape[1]),
            latency_s=time.monotonic() - start,
        )

    def describe(self) -> dict[str, Any]:
        return {"served_model": str(self.path), "device": self.device}

    def close(self) -> None:
        self.model = None
