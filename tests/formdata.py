"""What a browser would submit for a form: the successful controls of rendered HTML.

Used by the editor tests to round-trip every action's form through HTML, not around it: inputs
(checked boxes and radios only), selected options, textareas; disabled controls and the
contents of `<template>` elements (rows the page's script clones) are left out.
"""

from __future__ import annotations

from html.parser import HTMLParser


class _Controls(HTMLParser):
    def __init__(self, form_id: str | None) -> None:
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.pairs: list[tuple[str, str]] = []
        self.in_form = form_id is None
        self.template_depth = 0
        self.select: tuple[str, list[tuple[str, bool]]] | None = None
        self.option: dict[str, str | None] | None = None
        self.option_text = ""
        self.textarea: tuple[str, list[str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form" and self.form_id is not None:
            self.in_form = a.get("id") == self.form_id
        if tag == "template":
            self.template_depth += 1
        if not self.in_form or self.template_depth:
            return
        name = a.get("name")
        disabled = "disabled" in a
        if tag == "input" and name and not disabled:
            kind = (a.get("type") or "text").lower()
            if kind in ("submit", "button", "reset", "image", "file"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            default = "on" if kind in ("checkbox", "radio") else ""
            self.pairs.append((name, a.get("value") or default))
        elif tag == "select" and name and not disabled:
            self.select = (name, [])
        elif tag == "option" and self.select is not None:
            self.option = a
            self.option_text = ""
        elif tag == "textarea" and name and not disabled:
            self.textarea = (name, [])

    def handle_endtag(self, tag: str) -> None:
        if tag == "template":
            self.template_depth -= 1
        elif tag == "form" and self.form_id is not None:
            self.in_form = False
        elif tag == "option" and self.select is not None and self.option is not None:
            value = self.option.get("value")
            self.select[1].append(
                (value if value is not None else self.option_text, "selected" in self.option)
            )
            self.option = None
        elif tag == "select" and self.select is not None:
            name, options = self.select
            chosen = [value for value, selected in options if selected] or [
                value for value, _ in options[:1]
            ]
            self.pairs.extend((name, value) for value in chosen[:1])
            self.select = None
        elif tag == "textarea" and self.textarea is not None:
            text = "".join(self.textarea[1])
            self.pairs.append((self.textarea[0], text[1:] if text.startswith("\n") else text))
            self.textarea = None

    def handle_data(self, data: str) -> None:
        if self.textarea is not None:
            self.textarea[1].append(data)
        elif self.option is not None:
            self.option_text += data


def form_data(html: str, form_id: str | None = None) -> list[tuple[str, str]]:
    """Return the (name, value) pairs the form `form_id` (or all of `html`) would submit."""
    parser = _Controls(form_id)
    parser.feed(html)
    parser.close()
    return parser.pairs


class _Labels(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.label_for: set[str] = set()
        self.label_depth = 0
        self.template_depth = 0
        self.controls: list[tuple[str, bool]] = []  # (id or name, inside a <label>)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "template":
            self.template_depth += 1
        elif tag == "label":
            self.label_depth += 1
            if a.get("for"):
                self.label_for.add(a["for"] or "")
        elif tag in ("input", "select", "textarea") and not self.template_depth:
            if tag == "input" and (a.get("type") or "text") in ("hidden", "submit", "button"):
                return
            self.controls.append(
                (a.get("id") or f"<{tag} name={a.get('name')}>", bool(self.label_depth))
            )

    def handle_endtag(self, tag: str) -> None:
        if tag == "template":
            self.template_depth -= 1
        elif tag == "label":
            self.label_depth -= 1


def unlabelled_controls(html: str) -> list[str]:
    """Return the visible form controls of `html` that no <label> names."""
    parser = _Labels()
    parser.feed(html)
    parser.close()
    return [
        ident for ident, inside in parser.controls if not inside and ident not in parser.label_for
    ]


def duplicate_ids(html: str) -> list[str]:
    """Return the ids used more than once in `html` (outside <template>s), each label's target
    being ambiguous otherwise."""
    parser = _Ids()
    parser.feed(html)
    parser.close()
    return sorted(ident for ident, count in parser.counts.items() if count > 1)


class _Ids(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.counts: dict[str, int] = {}
        self.template_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "template":
            self.template_depth += 1
        ident = dict(attrs).get("id")
        if ident and not self.template_depth:
            self.counts[ident] = self.counts.get(ident, 0) + 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "template":
            self.template_depth -= 1
