"""Reading one big JSON object a value at a time, with the standard library only.

`json.load` of a results file holds the whole document, and then every record made from
it, at once: memory grows with the file. Here the top-level object is walked key by key
and one array of it (a results file's `sessions`) element by element, each value decoded
by `json.JSONDecoder.raw_decode` from a buffer refilled in chunks. The caller sees one
element at a time and keeps what it needs of it, so memory is bounded by the largest
value, and no value may be larger than a stated limit.

Syntax errors read as `json.loads` words them (message and line), so a bad file is
described the same whichever way it was read.
"""

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TextIO

# Characters read from the file at a time: large enough that refilling is rare, small
# enough to be no memory at all next to the values it holds.
CHUNK_CHARS = 1 << 20

_WHITESPACE = re.compile(r"[ \t\n\r]*")
# A value cut off by the end of the buffer fails to decode within a few characters of that
# end (a literal, a number's sign, a \u escape) or as an unterminated string, or decodes
# as a shorter number ending within a few characters of it.
_TRUNCATION_MARGIN = 8


class JsonSyntaxError(ValueError):
    """Not valid JSON: `msg` as json.loads says it, at `lineno` of the file."""

    def __init__(self, msg: str, lineno: int) -> None:
        super().__init__(f"{msg}: line {lineno}")
        self.msg = msg
        self.lineno = lineno


class ValueTooLarge(ValueError):
    """One value of the document is larger than the reader's limit: the value of `key`, or
    the element at 0-based `index` of its array; `key` None for a document not an object."""

    def __init__(self, key: str | None, index: int | None = None) -> None:
        super().__init__(f"{key}[{index}]" if index is not None else str(key))
        self.key = key
        self.index = index


@dataclass(frozen=True)
class Member:
    """A key of the top-level object and its value, decoded whole."""

    key: str
    value: object


@dataclass(frozen=True)
class ArrayStart:
    """A streamed key's array begins; its elements follow as `Element`s."""

    key: str


@dataclass(frozen=True)
class Element:
    key: str
    index: int
    value: object


@dataclass(frozen=True)
class NotAnObject:
    """The document is a JSON value but not an object (decoded whole, within the limit)."""

    value: object


Event = Member | ArrayStart | Element | NotAnObject


class _Buffer:
    """The file's text from `pos` on, refilled in chunks; remembers the lines it dropped."""

    def __init__(self, file: TextIO, max_value_chars: int) -> None:
        self._file = file
        self._max = max_value_chars
        self._decoder = json.JSONDecoder()
        self.text = ""
        self.pos = 0
        self._lines_dropped = 0
        self._eof = False

    def _refill(self) -> bool:
        """More text after what is buffered; False at the end of the file."""
        if self._eof:
            return False
        chunk = self._file.read(CHUNK_CHARS)
        if not chunk:
            self._eof = True
            return False
        # Drop what was read already, counting its lines for error messages.
        self._lines_dropped += self.text.count("\n", 0, self.pos)
        self.text = self.text[self.pos :] + chunk
        self.pos = 0
        return True

    def error(self, msg: str, pos: int | None = None) -> JsonSyntaxError:
        at = self.pos if pos is None else pos
        return JsonSyntaxError(msg, self._lines_dropped + self.text.count("\n", 0, at) + 1)

    def peek(self) -> str:
        """The next character that is not whitespace ("" at the end), not consumed."""
        while True:
            self.pos = _WHITESPACE.match(self.text, self.pos).end()
            if self.pos < len(self.text) or not self._refill():
                return self.text[self.pos : self.pos + 1]

    def expect(self, char: str, msg: str) -> None:
        if self.peek() != char:
            raise self.error(msg)
        self.pos += 1

    def value(self, key: str | None, index: int | None = None) -> object:
        """The JSON value starting at the next non-whitespace character, decoded whole.

        Raises JsonSyntaxError, ValueTooLarge naming where it is, ValueError (a number of more
        digits than Python converts) or RecursionError (nested too deeply).
        """
        self.peek()
        while True:
            start = self.pos
            try:
                value, end = self._decoder.raw_decode(self.text, start)
            except json.JSONDecodeError as exc:
                cut = exc.pos >= len(self.text) - _TRUNCATION_MARGIN or exc.msg.startswith(
                    "Unterminated string"
                )
                if not cut or not self._more(start, key, index):
                    raise self.error(exc.msg, exc.pos) from None
                continue
            # A number near the end of the buffer may go on in the next chunk ("12." + "5").
            if end > len(self.text) - _TRUNCATION_MARGIN and self._more(start, key, index):
                continue
            if end - start > self._max:
                raise ValueTooLarge(key, index)
            self.pos = end
            return value

    def _more(self, start: int, key: str | None, index: int | None) -> bool:
        """Refill for the value at `start`; False at the end of the file."""
        if len(self.text) - start > self._max:
            raise ValueTooLarge(key, index)
        self.pos = start
        return self._refill()


def events(file: TextIO, streamed: str, max_value_chars: int) -> Iterator[Event]:
    """The top-level object of `file`, one member at a time; the array at key `streamed` one
    element at a time. A key given twice yields twice: the last one is the one json.loads keeps.
    """
    buffer = _Buffer(file, max_value_chars)
    if buffer.peek() == "\ufeff":
        raise buffer.error("Unexpected UTF-8 BOM (decode using utf-8-sig)", 0)
    if buffer.peek() != "{":
        yield NotAnObject(buffer.value(None))
    else:
        buffer.pos += 1
        yield from _members(buffer, streamed)
    if buffer.peek():
        raise buffer.error("Extra data")


def _members(buffer: _Buffer, streamed: str) -> Iterator[Event]:
    if buffer.peek() == "}":
        buffer.pos += 1
        return
    while True:
        if buffer.peek() != '"':
            raise buffer.error("Expecting property name enclosed in double quotes")
        key = buffer.value("a key")
        assert isinstance(key, str)
        buffer.expect(":", "Expecting ':' delimiter")
        if key == streamed and buffer.peek() == "[":
            buffer.pos += 1
            yield ArrayStart(key)
            yield from _elements(buffer, key)
        else:
            yield Member(key, buffer.value(key))
        if buffer.peek() == "}":
            buffer.pos += 1
            return
        buffer.expect(",", "Expecting ',' delimiter")


def _elements(buffer: _Buffer, key: str) -> Iterator[Element]:
    if buffer.peek() == "]":
        buffer.pos += 1
        return
    index = 0
    while True:
        yield Element(key, index, buffer.value(key, index))
        index += 1
        if buffer.peek() == "]":
            buffer.pos += 1
            return
        buffer.expect(",", "Expecting ',' delimiter")
