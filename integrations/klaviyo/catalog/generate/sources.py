"""Parse the product seed (the 225 actions as offered) and the action -> operation map."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

SEED_FILE = "seeds/000_286fb6fcce8340d5.txt"
SPEC_FILE = "klaviyo/openapi-stable.json"
MAP_FILE = "klaviyo/actions-map.tsv"

_INPUT_HEADER = "Input parameters"
_OUTPUT_HEADER = "Output"
# Every seed action ends with the same three output lines (data, error, successful).
_OUTPUT_LINES = 3


@dataclass(frozen=True)
class SeedAction:
    """One action as the seed describes it: key, description, parameter descriptions."""

    key: str
    description: str
    params: tuple[str, ...]


@dataclass(frozen=True)
class MappedOperation:
    """One spec operation an action calls (several for `{related_resource}` actions)."""

    operation_id: str
    method: str
    path: str


def clean_text(text: str) -> str:
    """Undo the seed's escaping (`\\[`, `<br>`) without otherwise changing its words."""
    text = text.replace("\\[", "[").replace("\\]", "]").replace("\\_", "_")
    text = re.sub(r"\s*<br\s*/?>\s*", "\n", text)
    return re.sub(r"[ \t]+", " ", text).strip()


def read_map(path: Path) -> dict[str, list[MappedOperation]]:
    """Return action key -> the operations it calls, in the map's order."""
    result: dict[str, list[MappedOperation]] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            ids = [part.strip() for part in row["operation_ids"].split(",")]
            paths = [part.strip() for part in row["path"].split("|")]
            if len(ids) != len(paths):
                raise ValueError(
                    f"{row['action']}: {len(ids)} operation ids but {len(paths)} paths"
                )
            result[row["action"]] = [
                MappedOperation(op_id, row["method"].strip().upper(), op_path)
                for op_id, op_path in zip(ids, paths, strict=True)
            ]
    return result


def _split_key(line: str, known: set[str]) -> tuple[str, str]:
    """Split `KLAVIYO_KEYDescription...` where the description follows the key directly.

    The description may itself start with capitals (`KLAVIYO_GET_LISTAPI allows ...`), so the
    longest known key wins; an unknown key falls back to "last capital before a lowercase".
    """
    candidates = [key for key in known if line.startswith(key)]
    if candidates:
        key = max(candidates, key=len)
        return key, line[len(key) :]
    match = re.match(r"(KLAVIYO_[A-Z0-9_]*?[A-Z0-9])(?=[A-Z][a-z])", line)
    if not match:
        raise ValueError(f"cannot find where the action key ends in: {line[:80]!r}")
    return match.group(1), line[match.end() :]


def read_seed(path: Path, known_keys: set[str]) -> list[SeedAction]:
    """Parse the seed page into actions, in the seed's order."""
    lines = path.read_text(encoding="utf-8").splitlines()
    actions: list[SeedAction] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        if not line.startswith("KLAVIYO_"):
            index += 1
            continue
        key, first = _split_key(line, known_keys)
        description = [first]
        index += 1
        while index < len(lines) and lines[index] not in (_INPUT_HEADER, _OUTPUT_HEADER):
            description.append(lines[index])
            index += 1
        params: list[str] = []
        if index < len(lines) and lines[index] == _INPUT_HEADER:
            index += 1
            while index < len(lines) and lines[index] != _OUTPUT_HEADER:
                params.append(clean_text(lines[index]))
                index += 1
        index += 1 + _OUTPUT_LINES
        actions.append(SeedAction(key, clean_text("\n".join(description)), tuple(params)))
    keys = [action.key for action in actions]
    if len(set(keys)) != len(keys):
        raise ValueError("the seed lists an action twice")
    return actions
