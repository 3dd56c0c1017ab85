// rules.mjs — how the stand-in cloud answers: a few keyword rules instead of a language model, so that the
// demo runs with no account and no network, and every answer says which rule gave it.
//
//   classify(text, labels)      → {answer: {label, score}, rationale}
//   extract(text, entityTypes)  → {answer: {entities: [{label, text, start, end}]}, rationale}
//
// Answers use only the labels and entity types the request allows (the JSON schema's enums), as a real
// model held to that schema would. Placeholders such as [PERSON_1] are left alone.

/** Request wording → intent, first match wins; each intent is used only when the request's labels have it. */
const INTENT_RULES = [
  [/\blast (?:serviced|service|maintenance)\b|\bwhen was .* serviced\b/i, "last_maintenance"],
  [/\b(?:schedule|book|plan) (?:a )?(?:service|maintenance|repair)\b|\bneeds? (?:a )?service\b/i, "schedule_maintenance"],
  [/\bremind(?: me)?\b/i, "reminder"],
  [/\b(?:meeting|meet with)\b/i, "schedule_meeting"],
  [/\b(?:order|reorder|buy)\b/i, "order"],
  [/\b(?:weather|rain|wind|storm|forecast)\b/i, "weather"],
  [/\b(?:call|ring|phone)\b/i, "make_call"],
  [/\b(?:text|message)\b/i, "text"],
  [/\b(?:to-?do|task list)\b/i, "todo_list_update"],
  [/\b(?:timer|countdown)\b/i, "timer"],
  [/\b(?:tyre|tire) pressure\b/i, "tire_pressure"],
  [/\b(?:oil change|change the oil)\b/i, "oil_change_how"],
];

/** Terms of maintenance notes by entity type (MaintIE's top-level types); longer terms are tried first. */
const TERMS = {
  PhysicalObject: ["hydraulic pump", "conveyor belt", "tail pulley", "brake pads", "oil filter", "air filter", "fuel pump",
    "pump", "seal", "bearing", "belt", "pulley", "roller", "rollers", "motor", "engine", "generator", "compressor", "valve",
    "hose", "filter", "gearbox", "tyre", "tire", "brake", "battery", "fan", "excavator", "truck", "conveyor", "cable",
    "sensor", "starter", "alternator", "radiator", "coupling", "shaft", "gasket", "impeller", "switch", "breaker"],
  Activity: ["replace", "replaced", "replacing", "repair", "repaired", "check", "checked", "inspect", "inspected", "service",
    "serviced", "clean", "cleaned", "tighten", "tightened", "adjust", "adjusted", "lubricate", "grease", "greased", "test",
    "tested", "install", "installed", "remove", "removed", "refill", "topped up", "calibrate", "reset"],
  Process: ["leaking", "leak", "leaks", "vibrating", "vibration", "tripping", "trips", "overheating", "overheat", "smoking",
    "slipping", "grinding", "knocking", "squealing", "stalling", "running"],
  State: ["worn", "low", "high", "noisy", "torn", "broken", "cracked", "damaged", "blocked", "seized", "loose", "faulty",
    "failed", "flat", "dirty", "hot", "u/s", "ok"],
  Property: ["pressure", "temperature", "oil pressure", "voltage", "level", "speed", "tension", "flow"],
};

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

/** The spans of [TYPE_n] placeholders, which no rule may tag. */
function placeholderSpans(text) {
  return [...text.matchAll(/\[[A-Z][A-Z0-9_]*_\d+\]/g)].map((m) => [m.index, m.index + m[0].length]);
}

export function classify(text, labels) {
  for (const [re, intent] of INTENT_RULES) {
    const m = re.exec(text);
    if (m && labels.includes(intent))
      return { answer: { label: intent, score: 0.9 }, rationale: `rule: "${m[0]}" → ${intent}` };
  }
  const fallback = labels.includes("oos") ? "oos" : labels[0];
  return { answer: { label: fallback, score: 0.5 }, rationale: `no rule matched → ${fallback}` };
}

export function extract(text, entityTypes) {
  const terms = [];
  for (const [type, words] of Object.entries(TERMS))
    if (entityTypes.includes(type)) for (const w of words) terms.push([w, type]);
  terms.sort((a, b) => b[0].length - a[0].length);
  const taken = placeholderSpans(text);
  const entities = [];
  for (const [term, label] of terms) {
    for (const m of text.matchAll(new RegExp(`(?<![\\w/])${escape(term)}(?![\\w/])`, "gi"))) {
      const start = m.index, end = start + m[0].length;
      if (taken.some(([a, b]) => start < b && a < end)) continue;
      taken.push([start, end]);
      entities.push({ label, text: m[0], start, end });
    }
  }
  entities.sort((a, b) => a.start - b.start);
  const found = entities.map((e) => `${e.text} (${e.label})`).join(", ");
  return { answer: { entities }, rationale: entities.length ? `dictionary terms: ${found}` : "no dictionary term found" };
}
