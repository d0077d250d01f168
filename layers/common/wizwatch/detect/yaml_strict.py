"""YAML for rule files: PyYAML's safe loader, stricter where silence would hide a mistake.

PyYAML (like most YAML libraries) keeps the last of two equal keys in a mapping without a word,
so a second ``InlineFilters:`` silently replaces the first. Here a duplicate key is an error
naming both lines, and every duplicate in the file is reported, not only the first. The line of
each mapping key is kept so later checks (spec validation) can name the line of what they reject.

The strictness lives in the constructor (Python), so it runs on nodes from libyaml's C parser
when PyYAML has it (about ten times faster: YAML parsing was most of a cold start's rule load);
a document the C parser rejects is parsed again by the pure-Python parser, so the problem
reported for invalid YAML is word for word the same either way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml


@dataclass
class YamlDocument:
    """A parsed YAML file: the data, every problem found, and where each mapping key was."""

    data: Any
    problems: list[tuple[int, str]] = field(default_factory=list)  # (line, problem)
    #: id(mapping) -> {key: 1-based line}; the mappings are kept alive by ``data``.
    key_lines: dict[int, dict[Any, int]] = field(default_factory=dict)

    def line_of(self, mapping: Any, key: Any) -> int | None:
        """The line of ``key`` in a mapping of this document (None if unknown)."""
        return self.key_lines.get(id(mapping), {}).get(key)

    def line_at(self, *path: Any) -> int | None:
        """The line of the last key of a path of keys/indexes from the root (best effort)."""
        node = self.data
        line = None
        for step in path:
            if isinstance(node, dict):
                line = self.line_of(node, step) or line
                node = node.get(step)
            elif isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
                node = node[step]
            else:
                break
        return line


class _Strict(yaml.constructor.SafeConstructor):
    """SafeConstructor that records key lines and duplicate keys instead of keeping the last."""

    found: list[tuple[int, str]]
    key_lines: dict[int, dict[Any, int]]

    def fill_mapping(self, node: yaml.MappingNode, mapping: dict[Any, Any]) -> None:
        self.flatten_mapping(node)  # resolves << merge keys the way SafeLoader does
        lines: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node)
            line = key_node.start_mark.line + 1
            try:
                hash(key)
            except TypeError:
                self.found.append((line, f"a mapping key must be a scalar, got {type(key).__name__}"))
                continue
            if key in mapping:
                self.found.append(
                    (line, f"duplicate key {key!r} (first at line {lines[key]}); remove one of them")
                )
                continue
            mapping[key] = self.construct_object(value_node)
            lines[key] = line
        self.key_lines[id(mapping)] = lines


class _StrictLoader(
    yaml.reader.Reader,
    yaml.scanner.Scanner,
    yaml.parser.Parser,
    yaml.composer.Composer,
    _Strict,
    yaml.resolver.Resolver,
):
    """The pure-Python parser under the strict constructor."""

    def __init__(self, stream: str) -> None:
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        yaml.composer.Composer.__init__(self)
        _Strict.__init__(self)
        yaml.resolver.Resolver.__init__(self)
        self.found = []
        self.key_lines = {}


_CParser: Any = getattr(getattr(yaml, "cyaml", None), "CParser", None) if yaml.__with_libyaml__ else None

if _CParser is not None:

    class _StrictCLoader(_CParser, _Strict, yaml.resolver.Resolver):
        """libyaml's parser under the strict constructor."""

        def __init__(self, stream: str) -> None:
            _CParser.__init__(self, stream)
            _Strict.__init__(self)
            yaml.resolver.Resolver.__init__(self)
            self.found = []
            self.key_lines = {}

    _LOADERS: tuple[Any, ...] = (_StrictCLoader, _StrictLoader)
else:  # pragma: no cover - PyYAML built without libyaml
    _LOADERS = (_StrictLoader,)


def _construct_map(loader: _Strict, node: yaml.MappingNode) -> Any:
    data: dict[Any, Any] = {}
    yield data
    loader.fill_mapping(node, data)


_Strict.add_constructor("tag:yaml.org,2002:map", _construct_map)  # type: ignore[type-var]

# YAML 1.2 booleans, as Panther's tool reads rules (ruamel.yaml semantics): only true/false.
# YAML 1.1's yes/no/on/off would turn a Sequence transition's ``On:`` key into True.
for _loader in _LOADERS:
    _loader.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    _loader.add_implicit_resolver(
        "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
    )


def load(text: str) -> YamlDocument:
    """Parse one YAML document; a syntax error is a problem (with its line), never an exception."""
    if len(_LOADERS) > 1:
        fast = _LOADERS[0](text)
        try:
            data = fast.get_single_data()
        except yaml.YAMLError:
            pass  # parsed again below, for the pure-Python parser's wording of the problem
        else:
            return YamlDocument(data, sorted(fast.found), dict(fast.key_lines))
        finally:
            fast.dispose()
    return _load_python(text)


def _load_python(text: str) -> YamlDocument:
    loader = _StrictLoader(text)
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 0
        reason = exc.problem or str(exc)
        return YamlDocument(None, [(line, f"not valid YAML: {reason}")])
    except yaml.YAMLError as exc:
        return YamlDocument(None, [(0, f"not valid YAML: {exc}")])
    finally:
        loader.dispose()
    return YamlDocument(data, sorted(loader.found), dict(loader.key_lines))
