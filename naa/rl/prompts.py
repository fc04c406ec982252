"""What the model sees for a task: a system prompt with the answer format and context, and the hint.

The same function builds the unhinted prompt q and the hinted one q + h, so the two differ only by the
hint paragraph: that is what the Guide-GRPO importance ratio compares (DESIGN.md step 4).
"""

from naa.rl.tasks import RLTask

# Each type's final JSON block (parsed by ``rewards.final_json``): keys and an example, shown to the model.
ANSWER_FORMATS: dict[str, str] = {
    "intent": '{"intent": "<one of the labels>"}',
    "action": '{"action": "<action name>", "<slot>": <value>, ...}, e.g. '
    '{"action": "refund", "order_id": "TB-20481736", "amount": 42.5}',
    "computation": '{"answer": <number, or a date as "YYYY-MM-DD">}',
    "citation": '{"article": "<doc_id of the article that answers>"}',
    "refusal": '{"refuse": true} if policy forbids the request, else {"refuse": false}',
}

_INSTRUCTIONS = (
    "You are a customer-service assistant. Answer the customer briefly, following the policies below. "
    "End your reply with the final answer as a JSON block, and write nothing after it:\n"
    "```json\n{format}\n```"
)


def task_messages(task: RLTask, with_hint: bool) -> list[dict[str, str]]:
    """The chat messages for ``apply_chat_template``: system prompt, then the task's conversation.

    Args:
        with_hint: add the task's hint as the last paragraph of the system prompt (a guided sample).
    """
    parts = [_INSTRUCTIONS.format(format=ANSWER_FORMATS[task.type])]
    if task.type == "intent":
        parts.append("Labels: " + ", ".join(task.labels))
    if task.type == "computation" and task.unit:
        parts.append(f"Give the answer in {task.unit}.")
    if task.context:
        parts.append("\n\n".join(f"[{p.doc_id}]\n{p.text}" for p in task.context))
    if with_hint:
        parts.append(f"Hint: {task.hint}")
    system = {"role": "system", "content": "\n\n".join(parts)}
    return [system, *({"role": m.role, "content": m.content} for m in task.messages)]
