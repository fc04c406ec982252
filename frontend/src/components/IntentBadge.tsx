import { percent, type ShownIntent } from "../conversation";

export function IntentBadge({ intent }: { intent: ShownIntent }) {
  const oos = intent.out_of_scope || intent.label === "out_of_scope";
  const label = `Intent ${intent.label}, ${percent(intent.confidence)} confidence`;
  return (
    <span className={oos ? "intent intent-oos" : "intent"} aria-label={label} title={label}>
      <span className="intent-label">{intent.label}</span>
      <span className="intent-confidence">{percent(intent.confidence)}</span>
    </span>
  );
}
