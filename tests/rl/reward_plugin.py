"""Graded test rewards as a partner package ships them: ``plugin`` is what a ``naa.plugins`` entry point
names. In-process tests build a registry from it; the launch test exposes it to other processes through
a ``.dist-info`` entry point on PYTHONPATH, as an installed package would."""

from naa.config.plugins import Plugin
from naa.rl.tasks import RefusalTask, RLTask


def vowel_share(task: RLTask, reply: str) -> float:
    """A graded reward below 1 for almost any reply: rollouts differ, none is "correct" (reward 1)."""
    letters = [c for c in reply.lower() if c.isalpha()]
    return sum(c in "aeiou" for c in letters) / len(letters) if letters else 0.0


def vowel_share_on_refusals(task: RLTask, reply: str) -> float:
    """``vowel_share`` on tasks whose reply must refuse, 0 on the others: their groups are all equal, so
    filtering drops them, and a process that drew only such tasks keeps no group that step."""
    return vowel_share(task, reply) if isinstance(task, RefusalTask) and task.answer else 0.0


plugin = Plugin(
    "tests",
    {
        "reward": {
            "vowel_share": lambda: vowel_share,
            "vowel_share_on_refusals": lambda: vowel_share_on_refusals,
        }
    },
)
