"""Tests of tools/eval/metrics.py against hand-computed cases: seqeval's strict IOB2 entities (including the
examples of seqeval's README, worked out here from the definition), character-span scores, CLINC measures,
expected calibration error and the escalation-threshold rules. numpy only, well under a second.

    /usr/bin/python3 -m unittest tests.py.test_metrics
"""

import unittest

from tools.eval import metrics


class TestEntities(unittest.TestCase):
    def test_strict_iob2_entities(self):
        E = metrics.iob2_entities
        self.assertEqual(E(["B-X", "I-X", "O", "I-Y"]), [("X", 0, 2)])       # a stray I-Y starts nothing
        self.assertEqual(E(["I-X", "I-X", "O"]), [])                         # no B: no entity
        self.assertEqual(E(["B-X", "I-Y"]), [("X", 0, 1)])                   # a type change ends it
        self.assertEqual(E(["B-X", "B-X", "I-X"]), [("X", 0, 1), ("X", 1, 3)])
        self.assertEqual(E(["B-X", "I-X", "I-X"]), [("X", 0, 3)])             # running to the end
        self.assertEqual(E(["O", "B-PER", "I-PER", "I-LOC", "B-LOC"]), [("PER", 1, 3), ("LOC", 4, 5)])
        self.assertEqual(E(["B-X", "O", "I-X", "B-Y"]), [("X", 0, 1), ("Y", 3, 4)])
        self.assertEqual(E([]), [])
        self.assertEqual(E(["B-A-B", "I-A-B"]), [("A-B", 0, 2)])             # types may hold "-"
        with self.assertRaises(ValueError):
            E(["X-PER"])

    def test_seqeval_readme_strict_example(self):
        # seqeval README: default mode counts [I-NP I-NP O] as matching [B-NP I-NP O]; strict IOB2 does not:
        # the prediction has no entity at all, so precision = recall = F1 = 0.
        r = metrics.entity_prf([["B-NP", "I-NP", "O"]], [["I-NP", "I-NP", "O"]])
        self.assertEqual((r["precision"], r["recall"], r["f1"]), (0.0, 0.0, 0.0))
        self.assertEqual((r["support"], r["predicted"]), (1, 0))

    def test_seqeval_readme_report_example(self):
        # seqeval README's classification_report example: MISC predicted one token too early (2..6 against
        # 3..6) is wrong; PER (0..2) is right: P = R = F1 = 1/2; MISC 0, PER 1.
        gold = [["O", "O", "O", "B-MISC", "I-MISC", "I-MISC", "O"], ["B-PER", "I-PER", "O"]]
        pred = [["O", "O", "B-MISC", "I-MISC", "I-MISC", "I-MISC", "O"], ["B-PER", "I-PER", "O"]]
        r = metrics.entity_prf(gold, pred)
        self.assertAlmostEqual(r["precision"], 0.5)
        self.assertAlmostEqual(r["recall"], 0.5)
        self.assertAlmostEqual(r["f1"], 0.5)
        self.assertEqual(r["per_type"]["MISC"], {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1})
        self.assertEqual(r["per_type"]["PER"], {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 1})

    def test_micro_scores(self):
        gold = [["B-A", "I-A", "O", "B-B"], ["B-A", "O"], ["O", "O"]]
        pred = [["B-A", "I-A", "O", "B-A"], ["B-A", "O"], ["B-B", "I-A"]]
        # gold: A(0,2) B(3,4) | A(0,1)            -> 3
        # pred: A(0,2) A(3,4) | A(0,1) | B(0,1)   -> 4 (I-A after B-B is stray); correct: A(0,2), A(0,1) = 2
        r = metrics.entity_prf(gold, pred)
        self.assertAlmostEqual(r["precision"], 2 / 4)
        self.assertAlmostEqual(r["recall"], 2 / 3)
        self.assertAlmostEqual(r["f1"], 2 * (1 / 2) * (2 / 3) / (1 / 2 + 2 / 3))
        self.assertAlmostEqual(r["per_type"]["A"]["precision"], 2 / 3)
        self.assertAlmostEqual(r["per_type"]["A"]["recall"], 1.0)
        self.assertEqual(r["per_type"]["B"], {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1})

    def test_length_mismatch(self):
        with self.assertRaises(ValueError):
            metrics.entity_prf([["O"]], [["O", "O"]])
        with self.assertRaises(ValueError):
            metrics.entity_prf([["O"]], [])

    def test_empty(self):
        r = metrics.entity_prf([["O"]], [["O"]])
        self.assertEqual((r["precision"], r["recall"], r["f1"], r["support"]), (0.0, 0.0, 0.0, 0))


class TestSpans(unittest.TestCase):
    def test_span_prf(self):
        gold = [[(0, 3, "A"), (5, 8, "B")], []]
        pred = [[(0, 3, "A"), (5, 9, "B")], [(10, 12, "A")]]
        r = metrics.span_prf(gold, pred)
        self.assertAlmostEqual(r["precision"], 1 / 3)
        self.assertAlmostEqual(r["recall"], 1 / 2)
        self.assertAlmostEqual(r["f1"], 0.4)
        self.assertAlmostEqual(r["per_type"]["A"]["precision"], 1 / 2)
        self.assertEqual(r["per_type"]["B"]["f1"], 0.0)
        # a span of the right extent and the wrong type is wrong
        self.assertEqual(metrics.span_prf([[(0, 3, "A")]], [[(0, 3, "B")]])["f1"], 0.0)

    def test_tags_to_spans(self):
        offsets = [(0, 3), (4, 6), (6, 9), (10, 12), (13, 15)]
        tags = ["B-P", "I-P", "I-P", "O", "I-L"]
        self.assertEqual(metrics.tags_to_spans(tags, offsets), [(0, 9, "P")])
        self.assertEqual(metrics.tags_to_spans(["B-P", "B-P", "O", "B-L", "I-L"], offsets),
                         [(0, 3, "P"), (4, 6, "P"), (10, 15, "L")])


class TestClassification(unittest.TestCase):
    def test_accuracy(self):
        self.assertAlmostEqual(metrics.accuracy(["a", "b", "c"], ["a", "x", "c"]), 2 / 3)

    def test_clinc_scores(self):
        y = ["a", "b", "oos", "oos", "c"]
        p = ["a", "oos", "oos", "c", "c"]
        r = metrics.clinc_scores(y, p)
        self.assertAlmostEqual(r["in_scope_accuracy"], 2 / 3)  # a right, b wrong, c right
        self.assertAlmostEqual(r["oos_recall"], 1 / 2)          # one of two oos labelled oos
        self.assertAlmostEqual(r["oos_precision"], 1 / 2)       # of two labelled oos, one is
        self.assertAlmostEqual(r["accuracy"], 3 / 5)
        r = metrics.clinc_scores(y, p, escalated=[False, False, False, True, True])
        self.assertAlmostEqual(r["in_scope_accuracy"], 1 / 3)  # the escalated c is not answered locally
        self.assertAlmostEqual(r["oos_recall"], 1.0)            # the second oos is escalated: caught
        self.assertAlmostEqual(r["oos_precision"], 2 / 4)       # flagged: b (oos label), both oos, c
        self.assertAlmostEqual(r["accuracy"], 3 / 5)

    def test_ece(self):
        # bin 9 holds 0.9, 0.9 (accuracy 1/2): |0.5 - 0.9| * 2/4; bin 6 holds 0.6, 0.6 (accuracy 1): 0.4 * 2/4
        self.assertAlmostEqual(metrics.ece([0.9, 0.9, 0.6, 0.6], [1, 0, 1, 1], bins=10), 0.4)
        self.assertAlmostEqual(metrics.ece([1.0, 1.0], [1, 1], bins=15), 0.0)  # 1.0 falls in the last bin
        self.assertAlmostEqual(metrics.ece([0.25], [0], bins=4), 0.25)
        self.assertEqual(metrics.ece([], []), 0.0)

    def test_softmax_temperature(self):
        p = metrics.softmax([[0.0, 2.0]], 2.0)
        self.assertAlmostEqual(p[0, 1], 1 / (1 + pow(2.718281828459045, -1.0)))


class TestThresholds(unittest.TestCase):
    def test_candidates(self):
        self.assertEqual(metrics.candidate_thresholds([0.2, 0.5, 0.5, 0.9]), [0.0, 0.35, 0.7, 1.000001])
        self.assertEqual(metrics.candidate_thresholds([]), [0.0])

    def test_intent_rule(self):
        # 10 cases: 8 in scope, 2 oos. The model labels one oos as oos (prob 0.9), the other as "a" (0.4).
        y = ["a"] * 4 + ["b"] * 4 + ["oos", "oos"]
        p = ["a", "a", "a", "b", "b", "b", "b", "b", "oos", "a"]
        top = [0.99, 0.95, 0.30, 0.50, 0.90, 0.85, 0.45, 0.60, 0.90, 0.40]
        curve = metrics.intent_curve(y, p, top)
        row, ok = metrics.choose_intent_threshold(curve, 0.9)
        # oos recall reaches 1.0 once the 0.40 case escalates: the lowest such threshold is (0.40+0.45)/2,
        # which also escalates the 0.30 case (an "a" labelled "a").
        self.assertTrue(ok)
        self.assertAlmostEqual(row["threshold"], 0.425)
        self.assertAlmostEqual(row["oos_recall"], 1.0)
        self.assertAlmostEqual(row["escalation_rate"], 3 / 10)  # 0.30, 0.40 and the oos label
        # in scope, answered locally and right: 0.99 a, 0.95 a, 0.90 b, 0.85 b, 0.45 b, 0.60 b -> 6 of 8
        # (0.30 a is escalated, 0.50 is an "a" labelled "b")
        self.assertAlmostEqual(row["in_scope_accuracy"], 6 / 8)
        # kept: 7 cases, the 0.50 one wrong -> 6/7
        self.assertAlmostEqual(row["local_accuracy"], 6 / 7)
        # an unreachable floor: the highest recall (1.0 here too), lowest threshold
        row2, ok2 = metrics.choose_intent_threshold(metrics.intent_curve(y[:9], p[:9], top[:9]), 0.9)
        self.assertTrue(ok2)
        self.assertEqual(row2["threshold"], 0.0)
        y3, p3 = ["oos", "a"], ["a", "a"]
        row3, ok3 = metrics.choose_intent_threshold(metrics.intent_curve(y3, p3, [0.9, 0.8]), 0.9)
        self.assertTrue(ok3)  # only by escalating the 0.9 case, and with it everything
        self.assertAlmostEqual(row3["escalation_rate"], 1.0)
        row4, ok4 = metrics.choose_intent_threshold([{"threshold": 0.0, "oos_recall": 0.5, "in_scope_accuracy": 1},
                                                     {"threshold": 0.5, "oos_recall": 0.8, "in_scope_accuracy": 0.9}],
                                                    0.9)
        self.assertFalse(ok4)
        self.assertEqual(row4["threshold"], 0.5)

    def test_ner_rule(self):
        # 5 texts; each predicted entity set with its text score (lowest entity score; inf: no entity).
        gold = [[(0, 1, "A")], [(0, 1, "A")], [(0, 1, "A")], [(0, 1, "A")], []]
        pred = [[(0, 1, "A")], [(0, 2, "A")], [(0, 1, "A")], [(0, 1, "B")], []]
        scores = [0.9, 0.3, 0.8, 0.5, float("inf")]
        curve = metrics.ner_curve(gold, pred, scores)
        for r, t in zip(curve, [0.0, 0.4, 0.65, 0.85, 1.000001]):
            self.assertAlmostEqual(r["threshold"], t)
        self.assertEqual(len(curve), 5)
        self.assertEqual([r["escalation_rate"] for r in curve], [0.0, 0.2, 0.4, 0.6, 0.8])
        row = metrics.choose_ner_threshold(curve, 0.2)
        # at most 1 of 5 escalated: escalating the 0.3 text leaves 3 gold, 3 predicted, 2 right
        self.assertAlmostEqual(row["threshold"], 0.4)
        self.assertAlmostEqual(row["local_f1"], 2 / 3)
        row = metrics.choose_ner_threshold(curve, 0.4)
        self.assertAlmostEqual(row["threshold"], 0.65)
        self.assertAlmostEqual(row["local_f1"], 1.0)

    def test_thin_curve(self):
        curve = [{"threshold": i / 100, "escalation_rate": i / 100} for i in range(101)]
        thin = metrics.thin_curve(curve, 11)
        self.assertEqual([r["escalation_rate"] for r in thin], [i / 10 for i in range(11)])
        self.assertEqual(metrics.thin_curve(curve[:5], 11), curve[:5])


if __name__ == "__main__":
    unittest.main()
