"""Submit a form the way a browser would: read it from the rendered page.

``form_data(html, action)`` returns what a browser posts for the first form whose
``action`` is given (or the one with ``form_id``): every enabled text, hidden, number and time input, every textarea (empty ones too),
the selected option of each select (the first one when none is marked), and only the
checked checkboxes and radios. Values are lists, as a QueryDict holds them.
"""

from __future__ import annotations

from html import unescape
from html.parser import HTMLParser


class _FormReader(HTMLParser):
    def __init__(self, action: str, form_id: str | None):
        super().__init__(convert_charrefs=True)
        self.action = action
        self.form_id = form_id
        self.inside = False
        self.found = False
        self.data: dict[str, list[str]] = {}
        self._textarea: str | None = None
        self._select: str | None = None
        self._select_multiple = False
        self._select_values: list[str] = []
        self._select_first: str | None = None

    def _add(self, name: str, value: str) -> None:
        self.data.setdefault(name, []).append(value)

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            wanted = unescape(a.get("action", "")) == self.action and (
                self.form_id is None or a.get("id") == self.form_id
            )
            if wanted and not self.found:
                self.inside = self.found = True
            return
        if not self.inside or "disabled" in a:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self._add(name, a.get("value", "on"))
            elif kind not in ("submit", "button", "file", "image", "reset"):
                self._add(name, a.get("value", ""))
        elif tag == "textarea" and name:
            self._textarea = name
            self.data.setdefault(name, []).append("")
        elif tag == "select" and name:
            self._select, self._select_multiple = name, "multiple" in a
            self._select_values, self._select_first = [], None
        elif tag == "option" and self._select is not None:
            value = a.get("value", "")
            if self._select_first is None:
                self._select_first = value
            if "selected" in a:
                self._select_values.append(value)

    def handle_data(self, data):
        if self._textarea is not None:
            self.data[self._textarea][-1] += data

    def handle_endtag(self, tag):
        if tag == "form" and self.inside:
            self.inside = False
        elif tag == "textarea" and self._textarea is not None:
            value = self.data[self._textarea][-1]
            # A browser drops the one newline that follows <textarea>.
            self.data[self._textarea][-1] = value[1:] if value.startswith("\n") else value
            self._textarea = None
        elif tag == "select" and self._select is not None:
            values = self._select_values
            if not values and not self._select_multiple and self._select_first is not None:
                values = [self._select_first]
            for v in values:
                self._add(self._select, v)
            self._select = None


def form_data(html: str, action: str, form_id: str | None = None) -> dict[str, list[str]]:
    reader = _FormReader(action, form_id)
    reader.feed(html)
    assert reader.found, f"no form posting to {action}"
    return reader.data
