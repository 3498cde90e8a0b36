"""Generate the Klaviyo action catalog from the seed, Klaviyo's OpenAPI spec and the action map.

Run as `python manage.py klaviyo_codegen [--shared DIR]`. It reads `DIR/seeds/...`,
`DIR/klaviyo/openapi-stable.json` and `DIR/klaviyo/actions-map.tsv` and writes one JSON file per
spec category to `integrations/klaviyo/catalog/data/`. The output is deterministic (sorted keys,
fixed layout), so running it twice leaves no diff and the committed files can be reviewed.
The app reads only the generated files; `../shared` is never needed at run time.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .catalog.generate.assemble import build_action, share_id_examples
from .catalog.generate.localize import localize_examples
from .catalog.generate.naming import snake
from .catalog.generate.sources import MAP_FILE, SEED_FILE, SPEC_FILE, read_map, read_seed
from .catalog.generate.spec import Spec
from .catalog.generate.vocabulary import ID_EXAMPLES

CATALOG_DIR = Path(__file__).resolve().parent / "catalog" / "data"
FORMAT_VERSION = 1


def generate(shared: Path) -> tuple[dict[str, list[dict[str, Any]]], str]:
    """Return (file name -> actions sorted by key, spec revision) for the whole catalog."""
    missing = [name for name in (SEED_FILE, SPEC_FILE, MAP_FILE) if not (shared / name).exists()]
    if missing:
        raise FileNotFoundError(f"missing in {shared}: {', '.join(missing)}")
    spec = Spec.load(shared / SPEC_FILE)
    mapping = read_map(shared / MAP_FILE)
    seed = read_seed(shared / SEED_FILE, set(mapping))
    unmapped = sorted({action.key for action in seed} - set(mapping))
    if unmapped:
        raise ValueError(f"seed actions missing from the map: {', '.join(unmapped)}")
    entries = []
    for action in seed:
        try:
            entries.append(build_action(spec, action, mapping[action.key]))
        except Exception as exc:
            raise ValueError(f"{action.key}: {exc}") from exc
    share_id_examples(entries)
    localize_examples(entries, ID_EXAMPLES)
    files: dict[str, list[dict[str, Any]]] = {}
    for entry in entries:
        files.setdefault(f"{snake(entry['category'])}.json", []).append(entry)
    for entries in files.values():
        entries.sort(key=lambda entry: entry["key"])
    return files, spec.revision


def render(entries: Iterable[dict[str, Any]], revision: str = "") -> str:
    """Return the stable text of one catalog file."""
    document = {"format": FORMAT_VERSION, "actions": list(entries)}
    if revision:
        document["revision"] = revision
    return json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def write(files: dict[str, list[dict[str, Any]]], out_dir: Path, revision: str) -> list[Path]:
    """Write the catalog files to `out_dir`, removing stale ones; return the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name in sorted(files):
        path = out_dir / name
        path.write_text(render(files[name], revision), encoding="utf-8")
        written.append(path)
    for stale in out_dir.glob("*.json"):
        if stale.name not in files:
            stale.unlink()
    return written


def run(shared: Path, out_dir: Path = CATALOG_DIR) -> list[Path]:
    """Generate the catalog from `shared` into `out_dir`; return the files written."""
    files, revision = generate(shared)
    return write(files, out_dir, revision)
