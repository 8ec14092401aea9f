"""The host property query language (``hypervisor_properties`` and
``resource_properties``).

Syntax (a JSON string, or the already-decoded list)::

    ""  /  "[]"  /  []  /  None            no constraint
    [op, "$key", value]                    comparison; op is one of
                                           == = != < <= > >=  ("=" is "==")
    ["and", q, q, ...]                     all of (at least one operand)
    ["or", q, q, ...]                      any of (at least one operand)
    ["not", q]                             negation (exactly one operand)

``value`` is a JSON string, number, boolean or ``null``; the logical operators
are case-insensitive and nest at most :data:`MAX_DEPTH` levels deep; the
query, as JSON text, is at most :data:`MAX_LENGTH` characters long. Anything else raises
:class:`~blazar.exceptions.MalformedRequirements` (400) naming the offending
term and where it sits, e.g. ``unknown operator "=>" in ["=>", "$vcpus", "4"]
at query[1]``.

Evaluation against a host's attributes (a dict of column values and extra
capabilities, keys without the ``$``):

* both sides numeric (int/float, or strings such as ``"10"``, ``"-2.5"``,
  ``"1e3"``) -> compared as numbers, so ``"10" > "9"``;
* otherwise both sides boolean (``true``/``false``, or strings equal to
  ``"true"``/``"false"`` in any case) -> compared as booleans
  (``false < true``);
* otherwise compared as strings, case-sensitively (booleans spelled
  ``"true"``/``"false"``).

Missing keys: a comparison on a key the host lacks (or whose value is null)
is **false**, whatever the operator, so ``["!=", "$gpu", "true"]`` only keeps
hosts that *have* a ``gpu`` property different from true. ``not`` is plain
logical negation, so ``["not", ["==", "$gpu", "true"]]`` keeps every host
without a true ``gpu``, including hosts lacking the key. The explicit null
tests ``["==", "$gpu", null]`` (key missing or null) and
``["!=", "$gpu", null]`` (key present and not null) are the exception to the
rule; ordering operators with ``null`` are rejected.
"""

import dataclasses
import json
import math
import operator
import re

from blazar import exceptions

__all__ = ['Cmp', 'And', 'Or', 'Not', 'ANY', 'parse', 'matches', 'predicate',
           'keys', 'combine', 'to_list', 'to_json']

# Limits checked before any recursive walk (the JSON decoder's included):
# logical nesting (and/or/not) and the length of the query as JSON text.
MAX_DEPTH = 32
MAX_LENGTH = 4096

_COMPARISONS = {
    '==': operator.eq, '=': operator.eq, '!=': operator.ne,
    '<': operator.lt, '<=': operator.le, '>': operator.gt, '>=': operator.ge,
}
_NUMBER = re.compile(r'\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*\Z')


@dataclasses.dataclass(frozen=True)
class Cmp:
    """``[op, "$key", value]``; ``op`` is normalised (``=`` -> ``==``)."""
    op: str
    key: str
    value: object


@dataclasses.dataclass(frozen=True)
class And:
    """All terms hold; ``And(())`` is the empty query (always true)."""
    terms: tuple


@dataclasses.dataclass(frozen=True)
class Or:
    """At least one term holds."""
    terms: tuple


@dataclasses.dataclass(frozen=True)
class Not:
    """The term does not hold."""
    term: object


ANY = And(())
_NODES = (Cmp, And, Or, Not)


# --- parsing -------------------------------------------------------------

class _Malformed(Exception):
    pass


def _show(node, limit=200):
    try:
        text = json.dumps(node, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(node)
    return text if len(text) <= limit else text[:limit - 3] + '...'


def _where(path):
    return ' at query' + ''.join('[%d]' % i for i in path) if path else ''


def _fail(reason, node, path, hint=''):
    raise _Malformed('%s in %s%s%s' % (reason, _show(node), _where(path),
                                       '; ' + hint if hint else ''))


_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(r'[\[\]{}]')


def _text_depth(text):
    """How deeply lists and objects nest in JSON text (no recursion)."""
    depth = deepest = 0
    for bracket in _BRACKETS.findall(_STRINGS.sub('""', text)):
        depth += 1 if bracket in '[{' else -1
        deepest = max(deepest, depth)
    return deepest


def _value_depth(value):
    """How deeply lists and dicts nest in a decoded value (no recursion)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (list, tuple, dict)):
            deepest = max(deepest, depth)
            items = item.values() if isinstance(item, dict) else item
            stack.extend((sub, depth + 1) for sub in items)
    return deepest


def _check_size(query):
    """Length and nesting, before the decoder or the parser recurse: a
    comparison at the deepest logical level is list number MAX_DEPTH + 1."""
    if isinstance(query, str):
        if len(query) > MAX_LENGTH:
            raise _Malformed('query longer than %d characters' % MAX_LENGTH)
        depth = _text_depth(query)
    else:
        depth = _value_depth(query)
        if depth <= MAX_DEPTH + 1 and len(json.dumps(query)) > MAX_LENGTH:
            raise _Malformed('query longer than %d characters as JSON text'
                             % MAX_LENGTH)
    if depth > MAX_DEPTH + 1:
        raise _Malformed('query nested more than %d levels deep' % MAX_DEPTH)


def parse(query):
    """Parse ``query`` (JSON text, decoded list, None or an AST) to an AST.

    Returns :data:`ANY` when there is no constraint.
    """
    if isinstance(query, _NODES):
        return query
    original = query
    try:
        if query is None:
            return ANY
        if isinstance(query, (bytes, bytearray)):
            query = query.decode('utf-8')
        if isinstance(query, (str, list, tuple)):
            _check_size(query)
        if isinstance(query, str):
            if not query.strip():
                return ANY
            try:
                query = json.loads(query)
            except ValueError as e:
                raise _Malformed('invalid JSON: %s' % e)
            if query is None or query == '':
                return ANY
        if not isinstance(query, (list, tuple)):
            raise _Malformed('a query must be a JSON list, got %s'
                             % _show(query))
        if not query:
            return ANY
        return _term(query, (), 0)
    except _Malformed as e:
        if isinstance(original, str):
            shown = original
        elif _value_depth(original) > MAX_DEPTH + 1:
            shown = '[...]'
        else:
            shown = _show(original)
        if len(shown) > 200:
            shown = shown[:197] + '...'
        raise exceptions.MalformedRequirements(rqrms=shown, reason=str(e))


def _term(node, path, depth):
    if depth > MAX_DEPTH:
        _fail('query nested more than %d levels deep' % MAX_DEPTH, node,
              path)
    if not isinstance(node, (list, tuple)):
        raise _Malformed('expected a list [operator, ...], got %s%s'
                         % (_show(node), _where(path)))
    if not node:
        raise _Malformed('empty list%s (only the whole query may be [])'
                         % _where(path))
    op = node[0]
    if not isinstance(op, str):
        _fail('the operator must be a string, got %s' % _show(op), node,
              path)
    logical = op.lower()
    if logical in ('and', 'or'):
        if len(node) < 2:
            _fail('"%s" needs at least one operand' % logical, node, path)
        terms = tuple(_term(sub, path + (i,), depth + 1)
                      for i, sub in enumerate(node[1:], 1))
        return (And if logical == 'and' else Or)(terms)
    if logical == 'not':
        if len(node) != 2:
            _fail('"not" needs exactly one operand, got %d' % (len(node) - 1),
                  node, path)
        return Not(_term(node[1], path + (1,), depth + 1))
    if op not in _COMPARISONS:
        _fail('unknown operator "%s"' % op, node, path,
              'expected one of and, or, not, %s' % ', '.join(_COMPARISONS))
    if len(node) != 3:
        _fail('a comparison needs exactly 3 elements [op, "$key", value], '
              'got %d' % len(node), node, path)
    key, value = node[1], node[2]
    if not isinstance(key, str) or not key.startswith('$'):
        _fail('key must start with "$", got %s' % _show(key), node, path)
    if len(key) < 2:
        _fail('key "$" has no name', node, path)
    if value is not None and not isinstance(value, (str, int, float)):
        _fail('value must be a string, number, boolean or null, got %s'
              % _show(value), node, path)
    if isinstance(value, float) and not math.isfinite(value):
        _fail('value must be a finite number', node, path)
    if value is None and op not in ('==', '=', '!='):
        _fail('"%s" cannot compare with null (use == or !=)' % op, node,
              path)
    return Cmp('==' if op == '=' else op, key[1:], value)


# --- evaluation ----------------------------------------------------------

def _as_number(v):
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, str) and _NUMBER.match(v):
        text = v.strip()
        try:
            return int(text)
        except ValueError:
            f = float(text)
            return f if math.isfinite(f) else None
    return None


def _as_bool(v):
    if isinstance(v, bool):
        return v
    if isinstance(v, str):
        low = v.strip().lower()
        if low == 'true':
            return True
        if low == 'false':
            return False
    return None


def _as_str(v):
    if isinstance(v, bool):
        return 'true' if v else 'false'
    return str(v)


def _compile_cmp(node):
    key = node.key
    if node.value is None:
        if node.op == '==':
            return lambda attrs: attrs.get(key) is None
        return lambda attrs: attrs.get(key) is not None
    fn = _COMPARISONS[node.op]
    vnum = _as_number(node.value)
    vbool = _as_bool(node.value)
    vstr = _as_str(node.value)

    def check(attrs):
        a = attrs.get(key)
        if a is None:
            return False
        if vnum is not None:
            anum = _as_number(a)
            if anum is not None:
                return fn(anum, vnum)
        if vbool is not None:
            abool = _as_bool(a)
            if abool is not None:
                return fn(abool, vbool)
        return fn(_as_str(a), vstr)
    return check


def _compile(node):
    if isinstance(node, Cmp):
        return _compile_cmp(node)
    if isinstance(node, Not):
        inner = _compile(node.term)
        return lambda attrs: not inner(attrs)
    subs = tuple(_compile(t) for t in node.terms)
    if isinstance(node, And):
        if not subs:
            return lambda attrs: True
        if len(subs) == 1:
            return subs[0]
        return lambda attrs: all(f(attrs) for f in subs)
    if len(subs) == 1:
        return subs[0]
    return lambda attrs: any(f(attrs) for f in subs)


def predicate(query):
    """A fast ``attributes -> bool`` function for ``query`` (any form).

    Compile once and call it per host; :func:`matches` recompiles each time.
    """
    return _compile(parse(query))


def matches(query, attributes):
    """True iff a host with ``attributes`` satisfies ``query`` (any form)."""
    return predicate(query)(attributes)


# --- inspection and composition ------------------------------------------

def keys(query):
    """The property names (without ``$``) that ``query`` mentions."""
    out = set()

    def walk(node):
        if isinstance(node, Cmp):
            out.add(node.key)
        elif isinstance(node, Not):
            walk(node.term)
        else:
            for t in node.terms:
                walk(t)
    walk(parse(query))
    return out


def combine(*queries):
    """The AND of ``queries`` (any form); empty queries drop out."""
    terms = []
    for q in queries:
        node = parse(q)
        if isinstance(node, And):
            terms.extend(node.terms)
        else:
            terms.append(node)
    if len(terms) == 1:
        return terms[0]
    return And(tuple(terms))


def to_list(query):
    """The JSON-ready list form (``[]`` for no constraint)."""
    node = parse(query)
    if isinstance(node, Cmp):
        return [node.op, '$' + node.key, node.value]
    if isinstance(node, Not):
        return ['not', to_list(node.term)]
    if node == ANY:
        return []
    name = 'and' if isinstance(node, And) else 'or'
    return [name] + [to_list(t) for t in node.terms]


def to_json(query):
    """Canonical JSON text for storage; ``""`` for no constraint.

    ``parse(to_json(q)) == parse(q)`` for every valid query.
    """
    lst = to_list(query)
    return json.dumps(lst, ensure_ascii=False) if lst else ''
