"""Where a partner's built artifacts live on disk under the data dir.

One place decides the layout, so the CLI, the API and the Celery tasks find the same index and model:

    {data_dir}/partners/{partner_id}/kb/{kb_name}/   FAISS index + chunk metadata
    {data_dir}/partners/{partner_id}/intent/         trained intent classifier
    {data_dir}/partners/{partner_id}/rl/job-{job_id}/ one RL run: checkpoints, metrics.jsonl, trained model
    {data_dir}/models/                               generators converted from packaged GGUF files
"""

import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from naa.errors import InputError

# Partner ids and knowledge-base names become folder names: no separators, no "..", nothing hidden.
NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,62}$"


@dataclass(frozen=True)
class Workspace:
    data_dir: Path

    def partner_dir(self, partner_id: str) -> Path:
        return self.data_dir / "partners" / partner_id

    def kb_dir(self, partner_id: str, kb_name: str = "default") -> Path:
        """Raises InputError for a name that is not one folder name (``--kb ../../x``)."""
        if not re.fullmatch(NAME_PATTERN, kb_name):
            raise InputError(
                f"knowledge-base name {kb_name!r} is not allowed: use lower-case letters, digits, '-' and "
                "'_' (up to 63, starting with a letter or digit)"
            )
        return self.partner_dir(partner_id) / "kb" / kb_name

    def intent_dir(self, partner_id: str) -> Path:
        return self.partner_dir(partner_id) / "intent"

    def uploads_dir(self, partner_id: str) -> Path:
        """Where API uploads wait for their indexing job, a folder per upload, removed when the job ends."""
        return self.partner_dir(partner_id) / "uploads"

    def remove_upload(self, partner_id: str, paths: Sequence[Path | str]) -> None:
        """Delete the upload folder holding ``paths``, once nothing will read them again: files kept would
        outlive their documents' deletion and fill the disk. Paths elsewhere (a build's sources, the
        partner's own files) are left alone."""
        folders = {Path(path).parent for path in paths}
        if len(folders) == 1 and (folder := folders.pop()).parent == self.uploads_dir(partner_id):
            shutil.rmtree(folder, ignore_errors=True)

    def rl_run_dir(self, partner_id: str, job_id: str) -> Path:
        return self.partner_dir(partner_id) / "rl" / f"job-{job_id}"

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"
