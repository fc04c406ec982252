"""Reinforcement learning on verifiable customer-service tasks with Guide-GRPO (DESIGN.md "Guide-GRPO").

tasks.py (task file format) -> task_generator.py (tasks from policies) -> rewards.py (verifiers) ->
config.py (RLConfig) -> trainer.py (``train``) -> evaluation.py (pass@k). The math is in losses.py and
advantages.py. Import the modules themselves: this package imports nothing, so ``naa`` stays light.
"""
