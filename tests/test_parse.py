"""Tests for innersearch.indexer.parse: symbols, references, spans and tokens per language.

A small realistic snippet with exact expectations per language, then robustness cases."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from innersearch.indexer.parse import SUPPORTED_LANGUAGES, TAGS_DIR, parse_source
from innersearch.indexer.records import ParseResult


@dataclass
class Case:
    source: str
    # (name, kind, container, line, end_line)
    symbols: list[tuple[str, str, str, int, int]]
    call: tuple[str, int]  # one call reference: (name, line)
    functions: list[tuple[str, int, int]]  # (name, start_line, end_line)
    tokens: list[tuple[str, str]]  # (text, category) pairs that must appear


CASES: dict[str, Case] = {
    "python": Case(
        source='''import os


@dataclass
class Repo(Base):
    """A repository."""

    MAX_SIZE = 10

    def fetch(self, url):
        def retry():
            return helper(url)

        return self.client.get(url)


async def main(argv=None):
    # comment
    return Repo(argv) if True else None
''',
        symbols=[
            ("Repo", "class", "", 5, 14),
            ("MAX_SIZE", "constant", "Repo", 8, 8),
            ("fetch", "method", "Repo", 10, 14),
            ("retry", "function", "Repo", 11, 12),
            ("main", "function", "", 17, 19),
        ],
        call=("get", 14),
        functions=[("fetch", 10, 14), ("retry", 11, 12), ("main", 17, 19)],
        tokens=[
            ("def", "keyword"),
            ("fetch", "identifier"),
            ('"""A repository."""', "literal"),
            ("10", "literal"),
            ("None", "keyword"),
            ("True", "keyword"),
            ("(", "punct"),
            ("@", "punct"),
        ],
    ),
    "javascript": Case(
        source="""// Rate limiting helpers.
class Limiter extends Base {
  constructor(rate) {
    super(rate);
  }

  take(n = 1) {
    return this.bucket.remove(n);
  }
}

function create(rate) {
  return new Limiter(rate);
}

const wrap = (fn) => fn.bind(null, "x");
""",
        symbols=[
            ("Limiter", "class", "", 2, 10),
            ("constructor", "method", "Limiter", 3, 5),
            ("take", "method", "Limiter", 7, 9),
            ("create", "function", "", 12, 14),
            ("wrap", "function", "", 16, 16),
        ],
        call=("remove", 8),
        functions=[("constructor", 3, 5), ("take", 7, 9), ("create", 12, 14), ("wrap", 16, 16)],
        tokens=[
            ("class", "keyword"),
            ("Limiter", "identifier"),
            ("bucket", "identifier"),
            ('"x"', "literal"),
            ("1", "literal"),
            ("null", "keyword"),
            ("=>", "punct"),
        ],
    ),
    "typescript": Case(
        source="""interface Shape {
  area(): number;
}

type Point = { x: number };

enum Color { Red, Green }

export class Circle implements Shape {
  constructor(private r: number) {}
  area(): number {
    return Math.round(this.r * 2);
  }
}

namespace Geo {
  export function unit(): Circle { return new Circle(1); }
}
""",
        symbols=[
            ("Shape", "interface", "", 1, 3),
            ("area", "method", "Shape", 2, 2),
            ("Point", "type", "", 5, 5),
            ("Color", "enum", "", 7, 7),
            ("Circle", "class", "", 9, 14),
            ("constructor", "method", "Circle", 10, 10),
            ("area", "method", "Circle", 11, 13),
            ("Geo", "module", "", 16, 18),
            ("unit", "function", "Geo", 17, 17),
        ],
        call=("round", 12),
        functions=[("constructor", 10, 10), ("area", 11, 13), ("unit", 17, 17)],
        tokens=[
            ("interface", "keyword"),
            ("Shape", "identifier"),
            ("number", "keyword"),
            ("2", "literal"),
            (":", "punct"),
        ],
    ),
    "tsx": Case(
        source="""interface Props { title: string }

export function Header({ title }: Props) {
  return <h1 className="title">{format(title)}</h1>;
}

const App = () => <Header title="hi" />;
""",
        symbols=[
            ("Props", "interface", "", 1, 1),
            ("Header", "function", "", 3, 5),
            ("App", "function", "", 7, 7),
        ],
        call=("format", 4),
        functions=[("Header", 3, 5), ("App", 7, 7)],
        tokens=[("export", "keyword"), ('"title"', "literal"), ("Header", "identifier")],
    ),
    "go": Case(
        source="""package store

import "fmt"

// Stack is a LIFO.
type Stack[T any] struct {
    items []T
}

type Reader interface {
    Read(p []byte) (int, error)
}

type ID int

func (s *Stack[T]) Push(v T) {
    s.items = append(s.items, v)
}

func New() *Stack[int] {
    fmt.Println("new", 42, nil)
    return &Stack[int]{}
}
""",
        symbols=[
            ("Stack", "struct", "", 6, 8),
            ("items", "field", "Stack", 7, 7),
            ("Reader", "interface", "", 10, 12),
            ("Read", "method", "Reader", 11, 11),
            ("ID", "type", "", 14, 14),
            ("Push", "method", "Stack", 16, 18),
            ("New", "function", "", 20, 23),
        ],
        call=("Println", 21),
        functions=[("Push", 16, 18), ("New", 20, 23)],
        tokens=[
            ("func", "keyword"),
            ("Push", "identifier"),
            ('"fmt"', "literal"),
            ("42", "literal"),
            ("nil", "keyword"),
            ("&", "punct"),
        ],
    ),
    "java": Case(
        source="""package com.example;

public class Cache<K, V> implements Store {
    private int size = 0;

    public Cache(int size) {
        this.size = size;
    }

    @Override
    public V get(K key) {
        return loader.load(key, "x", 'c', null);
    }

    interface Loader {
        Object load(Object key);
    }

    enum Mode { LRU, LFU }
}
""",
        symbols=[
            ("Cache", "class", "", 3, 20),
            ("size", "field", "Cache", 4, 4),
            ("Cache", "method", "Cache", 6, 8),
            ("get", "method", "Cache", 11, 13),
            ("Loader", "interface", "Cache", 15, 17),
            ("load", "method", "Loader", 16, 16),
            ("Mode", "enum", "Cache", 19, 19),
            ("LRU", "constant", "Mode", 19, 19),
            ("LFU", "constant", "Mode", 19, 19),
        ],
        call=("load", 12),
        # A definition node includes its annotations, so get() starts at @Override.
        functions=[("Cache", 6, 8), ("get", 10, 13)],
        tokens=[
            ("public", "keyword"),
            ("loader", "identifier"),
            ('"x"', "literal"),
            ("'c'", "literal"),
            ("null", "keyword"),
            ("0", "literal"),
        ],
    ),
    "rust": Case(
        source="""use std::fmt;

pub struct Point {
    x: i32,
}

pub enum Shape {
    Circle(f64),
}

pub trait Area {
    fn area(&self) -> f64;
}

impl Point {
    pub fn new(x: i32) -> Self {
        Point { x }
    }
}

fn main() {
    let p = Point::new(1);
    println!("{}", p.x.abs());
}
""",
        symbols=[
            ("Point", "struct", "", 3, 5),
            ("x", "field", "Point", 4, 4),
            ("Shape", "enum", "", 7, 9),
            ("Area", "interface", "", 11, 13),
            ("area", "method", "Area", 12, 12),
            ("new", "method", "Point", 16, 18),
            ("main", "function", "", 21, 24),
        ],
        call=("new", 22),
        functions=[("new", 16, 18), ("main", 21, 24)],
        tokens=[
            ("fn", "keyword"),
            ("Point", "identifier"),
            ('"{}"', "literal"),
            ("1", "literal"),
            ("::", "punct"),
        ],
    ),
    "c": Case(
        source="""#include <stdio.h>

struct point {
    int x;
};

enum color { RED, GREEN };

typedef struct point point_t;

static int add(int a, int b)
{
    return a + b;
}

int main(void)
{
    printf("%d %c\\n", add(1, 2), 'x');
    return 0;
}
""",
        symbols=[
            ("point", "struct", "", 3, 5),
            ("x", "field", "point", 4, 4),
            ("color", "enum", "", 7, 7),
            ("RED", "constant", "color", 7, 7),
            ("GREEN", "constant", "color", 7, 7),
            ("point_t", "type", "", 9, 9),
            ("add", "function", "", 11, 14),
            ("main", "function", "", 16, 20),
        ],
        call=("printf", 18),
        functions=[("add", 11, 14), ("main", 16, 20)],
        tokens=[
            ("static", "keyword"),
            ("add", "identifier"),
            ('"%d %c\\n"', "literal"),
            ("'x'", "literal"),
            ("<stdio.h>", "literal"),
            ("{", "punct"),
        ],
    ),
    "cpp": Case(
        source="""#include <vector>

namespace geo {

class Shape {
public:
    double area() const { return std::sqrt(n_); }
    void draw();
private:
    int n_;
};

void Shape::draw() {
    render(this->n_);
}

}  // namespace geo

struct Pt { int x; };
""",
        symbols=[
            ("geo", "module", "", 3, 17),
            ("Shape", "class", "geo", 5, 11),
            ("area", "method", "Shape", 7, 7),
            ("draw", "method", "Shape", 8, 8),
            ("n_", "field", "Shape", 10, 10),
            ("draw", "function", "Shape", 13, 15),
            ("Pt", "struct", "", 19, 19),
            ("x", "field", "Pt", 19, 19),
        ],
        call=("render", 14),
        functions=[("area", 7, 7), ("draw", 13, 15)],
        tokens=[
            ("namespace", "keyword"),
            ("n_", "identifier"),
            ("this", "keyword"),
            ("->", "punct"),
        ],
    ),
    "csharp": Case(
        source="""using System;

namespace App.Core
{
    public class Repo : IRepo
    {
        public int Count { get; set; }

        public void Add(string item)
        {
            Log.Write($"add {item}", 42);
        }
    }

    public interface IRepo
    {
        void Add(string item);
    }

    struct Node { }
}
""",
        symbols=[
            ("App.Core", "module", "", 3, 21),
            ("Repo", "class", "App.Core", 5, 13),
            ("Count", "field", "Repo", 7, 7),
            ("Add", "method", "Repo", 9, 12),
            ("IRepo", "interface", "App.Core", 15, 18),
            ("Add", "method", "IRepo", 17, 17),
            ("Node", "struct", "App.Core", 20, 20),
        ],
        call=("Write", 11),
        functions=[("Add", 9, 12)],
        tokens=[
            ("class", "keyword"),
            ("Log", "identifier"),
            ('$"add {item}"', "literal"),
            ("42", "literal"),
        ],
    ),
    "ruby": Case(
        source="""require 'json'

module Billing
  class Invoice < Base
    def initialize(total)
      @total = total
    end

    def pay!
      Gateway.charge(@total, "usd", :card, nil)
    end
  end
end
""",
        symbols=[
            ("Billing", "module", "", 3, 13),
            ("Invoice", "class", "Billing", 4, 12),
            ("initialize", "method", "Invoice", 5, 7),
            ("pay!", "method", "Invoice", 9, 11),
        ],
        call=("charge", 10),
        functions=[("initialize", 5, 7), ("pay!", 9, 11)],
        tokens=[
            ("def", "keyword"),
            ("end", "keyword"),
            ("@total", "identifier"),
            ("Gateway", "identifier"),
            ('"usd"', "literal"),
            (":card", "literal"),
            ("nil", "keyword"),
        ],
    ),
    "php": Case(
        source=r"""<?php
namespace App\Models;

interface HasName { public function name(): string; }

class User extends Model implements HasName
{
    public function name(): string
    {
        return strtoupper($this->first . 'x', 42);
    }
}

function helper($a) { return array_map(null, $a); }
""",
        symbols=[
            ("App\\Models", "module", "", 2, 2),
            ("HasName", "interface", "App\\Models", 4, 4),
            ("name", "method", "HasName", 4, 4),
            ("User", "class", "App\\Models", 6, 12),
            ("name", "method", "User", 8, 11),
            ("helper", "function", "App\\Models", 14, 14),
        ],
        call=("strtoupper", 10),
        functions=[("name", 8, 11), ("helper", 14, 14)],
        tokens=[
            ("function", "keyword"),
            ("helper", "identifier"),
            ("$", "punct"),
            ("'x'", "literal"),
            ("42", "literal"),
        ],
    ),
    "kotlin": Case(
        source="""package com.example

data class User(val name: String) {
    fun greet(): String = "Hi $name"
}

interface Greeter {
    fun greet(): String
}

object Registry {
    fun register(u: User) {
        users.add(u)
    }
}

fun top(x: Int): Int {
    return max(x, 2)
}
""",
        symbols=[
            ("User", "class", "", 3, 5),
            ("greet", "method", "User", 4, 4),
            ("Greeter", "interface", "", 7, 9),
            ("greet", "method", "Greeter", 8, 8),
            ("Registry", "class", "", 11, 15),
            ("register", "method", "Registry", 12, 14),
            ("top", "function", "", 17, 19),
        ],
        call=("max", 18),
        functions=[("greet", 4, 4), ("register", 12, 14), ("top", 17, 19)],
        tokens=[
            ("fun", "keyword"),
            ("register", "identifier"),
            ('"Hi $name"', "literal"),
            ("2", "literal"),
        ],
    ),
}


def parse(lang: str, source: str | bytes) -> ParseResult:
    data = source.encode() if isinstance(source, str) else source
    result = parse_source(lang, data)
    assert result is not None
    return result


def test_cases_cover_every_language() -> None:
    assert set(CASES) == SUPPORTED_LANGUAGES
    assert {p.stem for p in TAGS_DIR.glob("*.scm")} == SUPPORTED_LANGUAGES


@pytest.mark.parametrize("lang", sorted(CASES))
def test_symbols(lang: str) -> None:
    result = parse(lang, CASES[lang].source)
    assert result.error == ""
    got = [(s.name, s.kind, s.container, s.line, s.end_line) for s in result.symbols]
    assert got == CASES[lang].symbols


@pytest.mark.parametrize("lang", sorted(CASES))
def test_call_reference(lang: str) -> None:
    result = parse(lang, CASES[lang].source)
    calls = {(r.name, r.line) for r in result.references if r.kind == "call"}
    assert CASES[lang].call in calls
    keys = [(r.name, r.line) for r in result.references]
    assert len(keys) == len(set(keys)), "references are deduplicated by (name, line)"


@pytest.mark.parametrize("lang", sorted(CASES))
def test_function_spans(lang: str) -> None:
    source = CASES[lang].source
    result = parse(lang, source)
    assert [(f.name, f.start_line, f.end_line) for f in result.functions] == CASES[lang].functions
    data = source.encode()
    for span in result.functions:
        body = data[span.start_byte : span.end_byte]
        assert span.name.encode() in body
        assert data[: span.start_byte].count(b"\n") + 1 == span.start_line
        assert data[: span.end_byte].rstrip(b"\n").count(b"\n") + 1 == span.end_line


@pytest.mark.parametrize("lang", sorted(CASES))
def test_tokens(lang: str) -> None:
    source = CASES[lang].source
    result = parse(lang, source)
    pairs = {(t.text, t.category) for t in result.tokens}
    for expected in CASES[lang].tokens:
        assert expected in pairs
    data = source.encode()
    offsets = [t.start_byte for t in result.tokens]
    assert offsets == sorted(offsets)
    assert len(offsets) == len(set(offsets))
    for token in result.tokens:
        assert token.category in ("identifier", "literal", "keyword", "punct")
        assert data[token.start_byte :].startswith(token.text.encode())
        assert data[: token.start_byte].count(b"\n") + 1 == token.line
        assert not token.text.startswith(("//", "# ", "/*")), "comments are not tokens"


@pytest.mark.parametrize("lang", sorted(CASES))
def test_signatures_are_first_lines(lang: str) -> None:
    lines = CASES[lang].source.splitlines()
    for symbol in parse(lang, CASES[lang].source).symbols:
        assert symbol.signature
        assert len(symbol.signature) <= 200
        assert "\n" not in symbol.signature
        assert any(symbol.signature in line for line in lines)


def test_signature_skips_annotations_and_keeps_declaration_keywords() -> None:
    java = parse("java", CASES["java"].source)
    assert [s.signature for s in java.symbols if s.name == "get"] == ["public V get(K key) {"]
    go = parse("go", CASES["go"].source)
    assert go.symbols[0].signature == "type Stack[T any] struct {"
    js = parse("javascript", CASES["javascript"].source)
    assert js.symbols[-1].signature == 'const wrap = (fn) => fn.bind(null, "x");'


def test_long_signature_is_cut() -> None:
    source = "def f(" + ", ".join(f"a{i}" for i in range(200)) + "):\n    pass\n"
    (symbol,) = parse("python", source).symbols
    assert len(symbol.signature) == 200
    assert symbol.signature.startswith("def f(a0, a1")


def test_strings_are_single_tokens() -> None:
    result = parse("python", 'x = f"a {b} c" + "d"\n')
    assert [(t.text, t.category) for t in result.tokens] == [
        ("x", "identifier"),
        ("=", "punct"),
        ('f"a {b} c"', "literal"),
        ("+", "punct"),
        ('"d"', "literal"),
    ]
    js = parse("javascript", "let s = `a ${b} c`;\n")
    assert ("`a ${b} c`", "literal") in [(t.text, t.category) for t in js.tokens]


def test_tokens_are_deterministic() -> None:
    for lang, case in CASES.items():
        assert parse(lang, case.source).tokens == parse(lang, case.source).tokens


def test_go_receiver_forms() -> None:
    source = """package p
func (s Stack) A() {}
func (s *Stack) B() {}
func (s Stack[T]) C() {}
func (Stack) D() {}
"""
    got = [(s.name, s.kind, s.container) for s in parse("go", source).symbols]
    assert got == [(n, "method", "Stack") for n in "ABCD"]


def test_javascript_prototype_and_object_methods() -> None:
    source = """Foo.prototype.bar = function () {};
module.exports.baz = () => 1;
const api = { get() {}, put: function () {} };
"""
    got = [(s.name, s.kind, s.container) for s in parse("javascript", source).symbols]
    assert got == [
        ("bar", "method", "Foo"),
        ("baz", "function", ""),
        ("api", "constant", ""),
        ("get", "method", "api"),
        ("put", "method", "api"),
    ]


def test_file_scoped_namespace_is_a_container() -> None:
    source = "namespace Flat;\nclass A { void M() {} }\n"
    got = [(s.name, s.kind, s.container) for s in parse("csharp", source).symbols]
    assert got == [("Flat", "module", ""), ("A", "class", "Flat"), ("M", "method", "A")]


def test_unsupported_language_returns_none() -> None:
    assert parse_source("cobol", b"IDENTIFICATION DIVISION.") is None
    assert parse_source("Python", b"x = 1") is None


@pytest.mark.parametrize("lang", sorted(SUPPORTED_LANGUAGES))
def test_empty_file(lang: str) -> None:
    result = parse(lang, b"")
    assert result == ParseResult()


def test_invalid_utf8() -> None:
    data = b'def f\xff():\n    return "\xfe\xc3("\n\n\nclass K:\n    pass\n'
    result = parse("python", data)
    assert ("K", "class") in [(s.name, s.kind) for s in result.symbols]
    literal = [t.text for t in result.tokens if t.category == "literal"]
    assert literal == ['"\ufffd\ufffd("']
    for lang in SUPPORTED_LANGUAGES:
        assert parse(lang, bytes(range(256)) * 4) is not None


def test_syntax_errors_are_reported_with_lines() -> None:
    source = "def ok():\n    pass\n\ndef bad(:\n    x = = 1\n"
    result = parse("python", source)
    assert result.error.startswith("syntax errors at line")
    assert "4" in result.error
    assert "ok" in [s.name for s in result.symbols]


@pytest.mark.parametrize("lang", sorted(SUPPORTED_LANGUAGES))
def test_garbage_sets_error_and_still_returns(lang: str) -> None:
    # Outside `<?php` a PHP file is template text, where anything goes.
    prefix = "<?php\n" if lang == "php" else ""
    result = parse(lang, prefix + "}}} ((( @@@ ;;; <<< \n )))) class def fn func [[[ \n" * 20)
    assert result.error.startswith("syntax errors")
    assert "internal error" not in result.error
    assert result.tokens


def test_valid_kotlin_has_no_error() -> None:
    # The Kotlin grammar leaves a hidden MISSING automatic semicolon before `}`.
    assert parse("kotlin", "interface G { fun g(): String }\n").error == ""


@pytest.mark.parametrize("lang", ["python", "javascript", "c", "go", "rust", "ruby"])
def test_deep_nesting_does_not_crash(lang: str) -> None:
    depth = 5000
    for data in (
        b"x = " + b"(" * depth + b"1" + b")" * depth + b"\n",
        b"[" * depth + b"]" * depth,
        b"f(" * depth,
    ):
        result = parse(lang, data)
        assert "internal error" not in result.error
        assert result.tokens


def test_huge_line() -> None:
    result = parse("javascript", b"var a = " + b"1+" * 200_000 + b"1;\n")
    assert result.error == ""
    assert len(result.tokens) == 400_005
    assert result.symbols[0].name == "a"
    assert len(result.symbols[0].signature) == 200
