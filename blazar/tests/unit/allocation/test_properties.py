import json

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
import pytest

from blazar import exceptions
from blazar.allocation import properties as P


def malformed(query):
    with pytest.raises(exceptions.MalformedRequirements) as info:
        P.parse(query)
    assert info.value.code == 400
    return str(info.value)


class TestParseValid:
    @pytest.mark.parametrize('query', [None, '', '   ', [], '[]', '""',
                                       'null', b'[]', ()])
    def test_no_constraint(self, query):
        assert P.parse(query) == P.ANY
        assert P.matches(query, {})

    def test_triple_string_and_list(self):
        expected = P.Cmp('>=', 'vcpus', '4')
        assert P.parse('[">=", "$vcpus", "4"]') == expected
        assert P.parse(['>=', '$vcpus', '4']) == expected
        assert P.parse(('>=', '$vcpus', '4')) == expected

    def test_equal_sign_means_equality(self):
        assert P.parse(['=', '$a', 'x']) == P.Cmp('==', 'a', 'x')

    @pytest.mark.parametrize('value', ['x', 4, 4.5, True, False, None, ''])
    def test_values(self, value):
        assert P.parse(['==', '$a', value]).value == value

    def test_nested(self):
        q = ['and', ['>=', '$vcpus', 4],
             ['or', ['==', '$az', 'a'], ['not', ['==', '$az', 'b']]],
             ['and', ['<', '$mem', '10']]]
        ast = P.parse(json.dumps(q))
        assert ast == P.And((
            P.Cmp('>=', 'vcpus', 4),
            P.Or((P.Cmp('==', 'az', 'a'), P.Not(P.Cmp('==', 'az', 'b')))),
            P.And((P.Cmp('<', 'mem', '10'),))))

    def test_logical_operators_case_insensitive(self):
        assert P.parse(['AND', ['==', '$a', 1]]) == P.And(
            (P.Cmp('==', 'a', 1),))
        assert isinstance(P.parse(['Not', ['==', '$a', 1]]), P.Not)

    def test_upstream_style_query(self):
        q = '["and", [">=", "$memory_mb", "4096"], ["==", "$gpu", "yes"]]'
        assert P.matches(q, {'memory_mb': 8192, 'gpu': 'yes'})
        assert not P.matches(q, {'memory_mb': 2048, 'gpu': 'yes'})

    def test_ast_passthrough(self):
        ast = P.parse(['==', '$a', 1])
        assert P.parse(ast) is ast


class TestParseErrors:
    def test_unknown_operator(self):
        msg = malformed('["=>", "$vcpus", "4"]')
        assert 'unknown operator "=>" in ["=>", "$vcpus", "4"]' in msg

    def test_unknown_operator_nested_location(self):
        msg = malformed(['and', ['==', '$a', 1], ['or', ['~', '$b', 2]]])
        assert 'unknown operator "~"' in msg
        assert 'at query[2][1]' in msg

    def test_key_needs_dollar(self):
        assert 'key must start with "$"' in malformed(['==', 'vcpus', 4])
        assert 'key must start with "$"' in malformed(['==', 4, 4])
        assert 'has no name' in malformed(['==', '$', 4])

    def test_and_or_need_operands(self):
        assert '"and" needs at least one operand' in malformed(['and'])
        assert '"or" needs at least one operand' in malformed(['or'])
        assert '"not" needs exactly one operand' in malformed(['not'])
        assert '"not" needs exactly one operand' in malformed(
            ['not', ['==', '$a', 1], ['==', '$b', 1]])

    def test_invalid_json(self):
        assert 'invalid JSON' in malformed('["==", "$a", ')
        assert 'invalid JSON' in malformed("['==', '$a', 1]")

    def test_not_a_list(self):
        assert 'must be a JSON list' in malformed('{"a": 1}')
        assert 'must be a JSON list' in malformed('4')
        assert 'must be a JSON list' in malformed(4)

    def test_arity(self):
        assert 'exactly 3 elements' in malformed(['==', '$a'])
        assert 'exactly 3 elements' in malformed(['==', '$a', 1, 2])

    def test_bad_values(self):
        assert 'value must be' in malformed(['==', '$a', [1]])
        assert 'value must be' in malformed(['==', '$a', {'x': 1}])
        assert 'finite' in malformed('["==", "$a", NaN]')
        assert 'cannot compare with null' in malformed(['<', '$a', None])

    def test_operand_not_a_list(self):
        assert 'expected a list' in malformed(['and', 'x'])
        assert 'empty list' in malformed(['and', []])
        assert 'operator must be a string' in malformed([[]])

    def test_depth_limit(self):
        q = ['==', '$a', 1]
        for _ in range(P.MAX_DEPTH + 2):
            q = ['not', q]
        assert 'nested more than' in malformed(q)

    def test_message_names_whole_query(self):
        err = pytest.raises(exceptions.MalformedRequirements, P.parse,
                            '["and", ["=>", "$a", 1]]').value
        assert err.message.startswith(
            'Malformed requirements ["and", ["=>", "$a", 1]]: ')


class TestMatches:
    @pytest.mark.parametrize('query,attrs,expected', [
        (['>', '$vcpus', '9'], {'vcpus': '10'}, True),     # not lexicographic
        (['>', '$vcpus', 9], {'vcpus': 10}, True),
        (['<', '$vcpus', '9'], {'vcpus': '10'}, False),
        (['==', '$vcpus', '4'], {'vcpus': 4}, True),
        (['==', '$vcpus', 4.0], {'vcpus': '4'}, True),
        (['>=', '$ratio', '1.5'], {'ratio': '1.50'}, True),
        (['<', '$x', '1e3'], {'x': 999}, True),
        (['==', '$name', 'abc'], {'name': 'abc'}, True),
        (['==', '$name', 'abc'], {'name': 'ABC'}, False),  # case-sensitive
        (['<', '$name', 'b'], {'name': 'abc'}, True),      # string order
        (['<', '$name', 'b'], {'name': 10}, True),         # "10" < "b"
        (['==', '$gpu', True], {'gpu': 'True'}, True),
        (['==', '$gpu', 'true'], {'gpu': True}, True),
        (['==', '$gpu', 'TRUE'], {'gpu': 'true'}, True),
        (['!=', '$gpu', True], {'gpu': 'false'}, True),
        (['==', '$gpu', True], {'gpu': 'yes'}, False),
        (['<', '$gpu', True], {'gpu': False}, True),
        (['==', '$v', '1'], {'v': True}, False),           # bool vs number
        (['==', '$v', 'nan'], {'v': 'nan'}, True),         # not numeric
        (['==', '$v', 'inf'], {'v': 'inf'}, True),
        (['==', '$v', '1_000'], {'v': '1000'}, False),     # not numeric
        (['==', '$v', ' 12 '], {'v': 12}, True),
    ])
    def test_comparisons(self, query, attrs, expected):
        assert P.matches(query, attrs) is expected

    @pytest.mark.parametrize('op', ['==', '!=', '<', '<=', '>', '>='])
    def test_missing_key_is_false(self, op):
        assert not P.matches([op, '$gpu', 'x'], {})
        assert not P.matches([op, '$gpu', 'x'], {'gpu': None})
        assert P.matches(['not', [op, '$gpu', 'x']], {})

    def test_not_of_missing_key(self):
        q = ['not', ['==', '$gpu', 'true']]
        assert P.matches(q, {})
        assert P.matches(q, {'gpu': 'false'})
        assert not P.matches(q, {'gpu': 'true'})
        assert not P.matches(['!=', '$gpu', 'true'], {})

    def test_null_tests(self):
        assert P.matches(['==', '$gpu', None], {})
        assert P.matches(['==', '$gpu', None], {'gpu': None})
        assert not P.matches(['==', '$gpu', None], {'gpu': 'x'})
        assert P.matches(['!=', '$gpu', None], {'gpu': 'x'})
        assert not P.matches(['!=', '$gpu', None], {})

    def test_logic(self):
        q = ['or', ['and', ['>=', '$vcpus', 8], ['==', '$az', 'a']],
             ['==', '$az', 'b']]
        assert P.matches(q, {'vcpus': 8, 'az': 'a'})
        assert not P.matches(q, {'vcpus': 4, 'az': 'a'})
        assert P.matches(q, {'vcpus': 4, 'az': 'b'})
        assert not P.matches(q, {'az': 'c'})

    def test_predicate(self):
        pred = P.predicate('["<=", "$memory_mb", "4096"]')
        assert pred({'memory_mb': 2048})
        assert not pred({'memory_mb': 8192})


class TestTools:
    def test_keys(self):
        q = ['and', ['>=', '$vcpus', 4],
             ['or', ['==', '$az', 'a'], ['not', ['==', '$gpu', 1]]]]
        assert P.keys(q) == {'vcpus', 'az', 'gpu'}
        assert P.keys('') == set()

    def test_combine(self):
        a = '["==", "$az", "a"]'
        b = ['and', ['>=', '$vcpus', 4], ['<', '$mem', 9]]
        assert P.combine(a, b) == P.And((P.Cmp('==', 'az', 'a'),
                                         P.Cmp('>=', 'vcpus', 4),
                                         P.Cmp('<', 'mem', 9)))
        assert P.combine('', a) == P.Cmp('==', 'az', 'a')
        assert P.combine('', []) == P.ANY
        assert P.combine(None, '') == P.ANY
        assert P.matches(P.combine(a, b), {'az': 'a', 'vcpus': 8, 'mem': 1})
        assert not P.matches(P.combine(a, b), {'az': 'b', 'vcpus': 8,
                                               'mem': 1})

    def test_combine_rejects_malformed(self):
        with pytest.raises(exceptions.MalformedRequirements):
            P.combine('["==", "$a", 1]', '["=>", "$b", 1]')

    def test_to_json(self):
        assert P.to_json('') == ''
        assert P.to_json(['=', '$a', '1']) == '["==", "$a", "1"]'
        q = ['and', ['=', '$a', 1], ['not', ['or', ['<', '$b', 'x']]]]
        assert json.loads(P.to_json(q)) == [
            'and', ['==', '$a', 1], ['not', ['or', ['<', '$b', 'x']]]]
        assert P.to_list(None) == []


# --- property-based ------------------------------------------------------

keys_ = st.sampled_from(['$a', '$b', '$c'])
values = st.one_of(st.sampled_from(['1', '2', '10', 'x', 'true', 'False']),
                   st.integers(-2, 12), st.booleans())
ops = st.sampled_from(['==', '=', '!=', '<', '<=', '>', '>='])
triples = st.tuples(ops, keys_, values).map(list)
queries = st.recursive(
    triples,
    lambda sub: st.one_of(
        st.lists(sub, min_size=1, max_size=3).map(lambda subs: ['and'] + subs),
        st.lists(sub, min_size=1, max_size=3).map(lambda subs: ['or'] + subs),
        sub.map(lambda q: ['not', q])),
    max_leaves=8)
attrs = st.dictionaries(st.sampled_from(['a', 'b', 'c']), values, max_size=3)


def reference(q, a):
    """Independent, naive evaluator of the documented semantics."""
    op = q[0]
    if op == 'and':
        return all(reference(s, a) for s in q[1:])
    if op == 'or':
        return any(reference(s, a) for s in q[1:])
    if op == 'not':
        return not reference(q[1], a)
    key, value = q[1][1:], q[2]
    if key not in a:
        return False
    x = a[key]

    def num(v):
        if isinstance(v, bool):
            return None
        try:
            return float(v)
        except ValueError:
            return None

    def boo(v):
        if isinstance(v, bool):
            return v
        return {'true': True, 'false': False}.get(str(v).lower())

    def text(v):
        return ('true' if v else 'false') if isinstance(v, bool) else str(v)

    if num(x) is not None and num(value) is not None:
        x, value = num(x), num(value)
    elif boo(x) is not None and boo(value) is not None:
        x, value = boo(x), boo(value)
    else:
        x, value = text(x), text(value)
    return {'==': x == value, '=': x == value, '!=': x != value,
            '<': x < value, '<=': x <= value, '>': x > value,
            '>=': x >= value}[op]


@settings(max_examples=300, deadline=None)
@given(queries, attrs)
def test_matches_reference(query, attributes):
    assert P.matches(query, attributes) == reference(query, attributes)
    assert P.matches(['not', query], attributes) != reference(query,
                                                             attributes)


@settings(max_examples=200, deadline=None)
@given(queries)
def test_json_roundtrip(query):
    ast = P.parse(query)
    text = P.to_json(ast)
    assert P.parse(text) == ast
    assert P.to_json(P.parse(text)) == text
    assert P.parse(json.dumps(query)) == ast


@settings(max_examples=100, deadline=None)
@given(queries, queries, attrs)
def test_combine_is_and(q1, q2, attributes):
    both = P.combine(q1, q2)
    assert P.matches(both, attributes) == (
        P.matches(q1, attributes) and P.matches(q2, attributes))
    assert P.keys(both) == P.keys(q1) | P.keys(q2)
