"""Where a partner's built artifacts live on disk under the data dir.

One place decides the layout, so the CLI, the API and the Celery tasks find the same index and model:

    {data_dir}/partners/{partner_id}/kb/{kb_name}/   FAISS index + chunk metadata
    {data_dir}/partners/{partner_id}/intent/         trained intent classifier
    {data_dir}/partners/{partner_id}/rl/job-{job_id}/ one RL run: checkpoints, metrics.jsonl, trained model
    {data_dir}/models/                               generators converted from packaged GGUF files
"""

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Workspace:
    data_dir: Path

    def partner_dir(self, partner_id: str) -> Path:
        return self.data_dir / "partners" / partner_id

    def kb_dir(self, partner_id: str, kb_name: str = "default") -> Path:
        return self.partner_dir(partner_id) / "kb" / kb_name

    def intent_dir(self, partner_id: str) -> Path:
        return self.partner_dir(partner_id) / "intent"

    def rl_run_dir(self, partner_id: str, job_id: str) -> Path:
        return self.partner_dir(partner_id) / "rl" / f"job-{job_id}"

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"
