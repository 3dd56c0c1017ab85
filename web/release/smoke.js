// smoke.js — the last check before a version serves: the loaded model is the one its manifest describes (task,
// labels) and answers the manifest's test input as the manifest expects.
//
// The contract: checkModel() and smokeTest() answer null when the model passes, else {code, reason}: code
// "MANIFEST" (the file is not the model the manifest describes) or "SMOKE_TEST" (it answers otherwise). They
// never throw for a wrong answer; an error the model itself throws propagates.

/** A text for models whose release has no test: the model must run it and give numbers. */
const PROBE = "edgetag smoke test: book a table for two at 7pm";

const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

/** Whether the loaded model is the one `release` describes: its task and its labels. */
export function checkModel(info, release) {
  if (info.task !== release.task)
    return { code: "MANIFEST", reason: `the file is a ${info.task} model; its manifest says ${release.task}` };
  if (!same(info.labels, release.labels))
    return { code: "MANIFEST", reason: `the file's ${info.labels.length} labels are not the ${release.labels.length} its manifest lists` };
  return null;
}

function describeEntities(list) {
  return list.length ? list.map((e) => `${e.label} "${e.text}"`).join(", ") : "none";
}

/** Runs the release's test (or, without one, the probe) on `tagger` (a Model or a WorkerTagger). */
export async function smokeTest(tagger, release) {
  const test = release.test;
  const input = test?.input ?? PROBE;
  if (release.task === "sequence_classification") {
    const r = await tagger.classify(input);
    if (!Number.isFinite(r?.score)) return { code: "SMOKE_TEST", reason: `the model answers a score of ${r?.score}` };
    if (test && r.label !== test.expect.label)
      return { code: "SMOKE_TEST", reason: `the test input is classified ${JSON.stringify(r.label)}, not ${JSON.stringify(test.expect.label)}` };
    return null;
  }
  if (release.task === "token_classification") {
    const r = await tagger.extract(input);
    if (!Array.isArray(r?.entities) || !r.entities.every((e) => Number.isFinite(e.score)))
      return { code: "SMOKE_TEST", reason: "the model's entities have no numeric scores" };
    const got = r.entities.map(({ label, text }) => ({ label, text }));
    const want = test?.expect.entities;
    if (want && !(got.length === want.length && got.every((e, i) => e.label === want[i].label && e.text === want[i].text)))
      return { code: "SMOKE_TEST", reason: `the test input gives ${describeEntities(got)}, not ${describeEntities(want)}` };
    return null;
  }
  const v = await tagger.embed(input);
  if (!(v?.length > 0) || !Array.from(v).every(Number.isFinite)) return { code: "SMOKE_TEST", reason: "the embedding is not numbers" };
  return null;
}
