"""Start-up registration of file-based partners: ``naa serve`` and the benchmark run the demo this way.

A partner whose YAML lives on disk (the shipped demo, a partner folder) is stored with its path, so edits
to the file take effect at the next start; each start mints a fresh key to print, since stored keys are
only hashes and cannot be shown again.
"""

from pathlib import Path

from naa.config.partner import load_partner_config
from naa.config.settings import NAASettings
from naa.storage import partners
from naa.storage.session import init_db, make_engine, make_session_factory, session_scope


def register_partner_file(settings: NAASettings, config_path: Path, key_name: str = "naa serve") -> str:
    """Store the partner of ``config_path`` if it is new, and return a new API key for it.

    Raises:
        ConfigError: the file is missing or invalid.
    """
    config = load_partner_config(config_path)
    url = settings.resolved_database_url()
    init_db(url)
    engine = make_engine(url)
    try:
        with session_scope(make_session_factory(engine)) as session:
            if config.id not in {p.id for p in partners.list_partners(session)}:
                partners.create_partner(session, config.id, config.name, config_path=config_path.resolve())
            return partners.create_api_key(session, config.id, key_name)[1]
    finally:
        engine.dispose()
