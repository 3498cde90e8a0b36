"""List, search and show the Klaviyo actions of the catalog."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from integrations.klaviyo.catalog import (
    Action,
    UnknownAction,
    categories,
    example_input,
    get_action,
    list_actions,
)


def _type_of(schema: dict[str, Any]) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = "|".join(k for k in kind if k != "null")
    if kind == "array":
        return f"{_type_of(schema.get('items', {}))}[]"
    if not kind and "anyOf" in schema:
        return "one of " + ", ".join(sorted({_type_of(s) for s in schema["anyOf"]}))
    return str(kind or "any")


class Command(BaseCommand):
    help = "List the Klaviyo action catalog; filter by category or search words, or show one."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--category", help="Only this category (e.g. Profiles, Lists).")
        parser.add_argument("--search", help="Only actions matching every word (key, title, ...).")
        parser.add_argument("--show", metavar="KEY", help="Show one action in detail.")
        parser.add_argument("--json", action="store_true", help="Print JSON instead of text.")

    def handle(self, *args, **options) -> None:  # type: ignore[no-untyped-def]
        if options["show"]:
            try:
                action = get_action(options["show"])
            except UnknownAction as exc:
                raise CommandError(str(exc)) from exc
            if options["json"]:
                self.stdout.write(json.dumps(action.to_dict(), indent=2, sort_keys=True))
            else:
                self._show(action)
            return
        category = options["category"]
        if category and category.lower() not in {c.lower() for c in categories()}:
            raise CommandError(
                f"Unknown category {category!r}; categories: {', '.join(categories())}"
            )
        actions = list_actions(category=category, query=options["search"])
        if options["json"]:
            self.stdout.write(json.dumps([a.to_dict() for a in actions], indent=2, sort_keys=True))
            return
        self._table(actions)

    def _table(self, actions: list[Action]) -> None:
        rows = [("KEY", "TITLE", "CATEGORY", "METHOD", "PATH", "EFFECT", "TIER")]
        rows += [
            (a.key, a.title, a.category, a.method, a.path, a.side_effect, a.rate_limit.tier)
            for a in actions
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        for row in rows:
            self.stdout.write("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
        self.stdout.write(f"\n{len(actions)} action{'s' if len(actions) != 1 else ''}")

    def _show(self, action: Action) -> None:
        limit = action.rate_limit
        daily = f", {limit.daily}/d" if limit.daily else ""
        write = self.stdout.write
        write(f"{action.key} - {action.title}")
        write(f"Category:    {action.category}")
        write(f"Request:     {action.method} {action.path}")
        for value, template in (action.variants or {}).items():
            write(f"  {action.variant_field}={value}: {template['method']} {template['path']}")
        write(f"Scopes:      {', '.join(action.scopes) or '-'}")
        write(f"Rate limit:  {limit.tier} ({limit.burst}/s, {limit.steady}/m{daily})")
        write(f"Side effect: {action.side_effect}")
        write(f"Paginates:   {'yes' if action.paginates else 'no'}")
        if action.client_side:
            write("Client-side: yes (public key as company_id, no private key)")
        if action.composite:
            write(f"Composite:   {action.composite} (may send several requests)")
        write("")
        write(action.description)
        write("\nInput:")
        required = set(action.required_fields)
        properties = action.input_schema.get("properties", {})
        width = max((len(name) for name in properties), default=0)
        for name, schema in properties.items():
            flag = "required" if name in required else "optional"
            description = schema.get("description", "")
            write(f"  {name.ljust(width)}  {_type_of(schema):<16} {flag:<8}  {description}")
        alternatives = [
            " + ".join(branch.get("required", []))
            for branch in action.input_schema.get("anyOf", [])
        ]
        if alternatives:
            write(f"  Give at least one of: {', '.join(alternatives)}")
        write("\nExample input:")
        write("  " + json.dumps(example_input(action), sort_keys=True))
        data = action.output_schema["properties"]["data"]
        write(f"\nOutput: {{successful, error, data}}; data is {_type_of(data)}")
        for name, schema in sorted(data.get("properties", {}).items()):
            write(f"  data.{name}: {_type_of(schema)}")
