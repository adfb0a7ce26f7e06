"""Generate the dataset card (``README.md`` with YAML ``configs:``) from the data itself."""

from __future__ import annotations

import dataclasses
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lrsgro import __version__
from lrsgro.dataset import DATA_DIR, QUESTION_SCHEMA
from lrsgro.records import ImageRecord, Question
from lrsgro.taxonomy import QUESTION_TYPES

CITATION = """@article{liu2025zoomearth,
  title   = {ZoomEarth: Active Perception for Ultra-High-Resolution Geospatial Vision-Language Tasks},
  author  = {Liu, Ruixun and others},
  journal = {arXiv preprint arXiv:2511.12267},
  year    = {2025}
}"""

# The card ends with its CardInfo as JSON in an HTML comment, so ``lrsgro push`` can
# regenerate the card from the data without losing the licence or limitations.
CARD_INFO_MARKER = "lrsgro:card-info"
_CARD_INFO_PATTERN = re.compile(r"<!-- " + re.escape(CARD_INFO_MARKER) + r" (\{.*?\}) -->")


@dataclass
class CardInfo:
    """What the card states beyond counts."""

    pretty_name: str = "LRS-GRO-style benchmark built with lrsgro"
    license: str = "other"
    imagery_license: str = "unknown: state the licence of the source imagery before publishing"
    limitations: list[str] = field(default_factory=list)
    unreviewed: bool = False
    review_agreement: dict[str, float] | None = None
    rejected_excluded: int = 0
    # The VLM drafting run of the build: model, templates (file name to hash), and the drafts
    # kept, rejected, flagged and dropped as duplicates of rule questions.
    vlm_drafting: dict[str, Any] | None = None


def render_card(questions: list[Question], images: list[ImageRecord], info: CardInfo) -> str:
    """Return the card text: YAML front matter with configs and features, then the tables."""
    splits = sorted({q.split for q in questions})
    front = _front_matter(splits, info)
    body = [f"# {info.pretty_name}", ""]

    body += [
        f"Built with lrsgro {__version__}: {len(questions)} questions on {len(images)} images.",
        "Rule-derived answers are measured from the labels, geometry, pixels or metadata; each",
        "question's `evidence` column names the objects and values it came from.",
        "",
    ]
    if info.unreviewed:
        body += [
            "**Not fully reviewed.** Some questions are still `candidate` (not checked by a person);",
            "filter on `review_status` before using them as ground truth.",
            "",
        ]
    if info.rejected_excluded:
        body += [
            f"**{info.rejected_excluded} rejected questions left out.** Reviewers found them ambiguous or",
            "not answerable with certainty from the image, so this release does not contain them.",
            "",
        ]
    rejected = sum(q.review_status == "rejected" for q in questions)
    if rejected:
        body += [
            f"**Contains {rejected} rejected questions.** Reviewers found them ambiguous or not",
            "answerable with certainty from the image; drop rows whose `review_status` is `rejected`",
            "before using the answers as ground truth.",
            "",
        ]

    body += _table("Questions per split", ["split", "questions", "images"], [
        (s, sum(q.split == s for q in questions), sum(i.split == s for i in images)) for s in splits
    ])
    body += _table("Questions per level", ["level", "questions"], sorted(Counter(q.level for q in questions).items()))

    by_type = Counter((q.level, q.category) for q in questions)
    rows = [(t.level, t.category, by_type.get(t.key, 0)) for t in QUESTION_TYPES]
    rows += [(lvl, cat, n) for (lvl, cat), n in sorted(by_type.items()) if not any(t.key == (lvl, cat) for t in QUESTION_TYPES)]
    body += _table("Questions per type", ["level", "category", "questions"], rows)

    body += _table("Questions per provenance", ["provenance", "questions"], sorted(Counter(q.provenance for q in questions).items()))
    body += _table("Review status", ["status", "questions"], sorted(Counter(q.review_status for q in questions).items()))
    if info.review_agreement:
        body += _table("Reviewer agreement per type", ["type", "agreement"], [(k, f"{v:.1%}") for k, v in sorted(info.review_agreement.items())])
    if info.vlm_drafting and any(q.provenance == "vlm" for q in questions):
        body += _vlm_section(info.vlm_drafting)

    body += ["## Source imagery", "", f"Licence: {info.imagery_license}", ""]
    limitations = info.limitations or [
        "Region-level questions without region labels use object clusters or a 3x3 grid of the image.",
        "Colour names come from pixel statistics and may disagree with a person's reading under haze or shadow.",
    ]
    body += ["## Known limitations", "", *[f"- {item}" for item in limitations], ""]
    body += ["## Citation", "", "```bibtex", CITATION, "```", ""]
    body += [_card_info_comment(info), ""]
    return front + "\n".join(body)


def write_card(folder: Path, questions: list[Question], images: list[ImageRecord], info: CardInfo) -> None:
    """Write ``README.md`` into the dataset folder."""
    (folder / "README.md").write_text(render_card(questions, images, info), encoding="utf-8")


def read_card_info(card_text: str) -> CardInfo | None:
    """Parse the CardInfo that :func:`render_card` embedded in a card; None when there is none.

    Keys that this version of CardInfo does not know are ignored.
    """
    match = _CARD_INFO_PATTERN.search(card_text)
    if match is None:
        return None

    data = json.loads(match.group(1))
    known = {f.name for f in dataclasses.fields(CardInfo)}
    return CardInfo(**{key: value for key, value in data.items() if key in known})


def _card_info_comment(info: CardInfo) -> str:
    # Escaping ">" keeps a value containing "-->" from ending the comment early.
    data = json.dumps(dataclasses.asdict(info), sort_keys=True, ensure_ascii=False).replace(">", "\\u003e")
    return f"<!-- {CARD_INFO_MARKER} {data} -->"


def _front_matter(splits: list[str], info: CardInfo) -> str:
    import yaml

    features = [{"name": f.name, "dtype": _dtype(f.type)} for f in QUESTION_SCHEMA]
    features = [_list_feature(f) for f in features]
    meta = {
        "pretty_name": info.pretty_name,
        "license": info.license,
        "task_categories": ["visual-question-answering"],
        "tags": ["remote-sensing", "ultra-high-resolution", "lrs-gro"],
        "configs": [
            {
                "config_name": "default",
                "data_files": [{"split": s, "path": f"{DATA_DIR}/{s}-*"} for s in splits],
            }
        ],
        "dataset_info": {"features": features},
    }
    return "---\n" + yaml.safe_dump(meta, sort_keys=False, allow_unicode=True) + "---\n\n"


def _dtype(arrow_type: object) -> str:
    text = str(arrow_type)
    return {"string": "string", "int32": "int32", "list<item: string>": "list:string", "list<item: double>": "list:float64"}[text]


def _list_feature(feature: dict[str, str]) -> dict[str, str]:
    if feature["dtype"].startswith("list:"):
        return {"name": feature["name"], "list": feature["dtype"].split(":", 1)[1]}
    return feature


def _vlm_section(drafting: dict[str, Any]) -> list[str]:
    templates = ", ".join(f"`{name}` ({digest})" for name, digest in sorted(drafting.get("templates", {}).items()))
    lines = _table("VLM drafting", ["drafts", "count"], [
        ("kept as candidates (before answer balancing)", drafting.get("kept", 0)),
        ("rejected (invalid, or contradicting a rule-derived answer)", drafting.get("rejected", 0)),
        ("kept but flagged against a measured fact", drafting.get("flagged", 0)),
        ("dropped as duplicates of rule-derived questions", drafting.get("duplicates_of_rules", 0)),
    ])
    intro = [
        f"Questions with provenance `vlm` were drafted by `{drafting.get('model', 'unknown')}` with the prompt "
        f"templates {templates or '(unknown)'}.",
        "",
    ]
    return lines[:2] + intro + lines[2:]


def _table(title: str, header: list[str], rows: list[tuple]) -> list[str]:
    lines = [f"## {title}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return lines + [""]
