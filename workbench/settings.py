"""The one typed settings object.

Everything the workbench can be configured with lives here, read from the
environment with the ``WORKBENCH_`` prefix (nested with ``__``, e.g.
``WORKBENCH_AI__TEXT_PROVIDER=openai``). With nothing set you get the
*embedded default*: a ``workbench-data`` folder under the working directory
holding a local DuckDB file, a local LanceDB directory and local blob files,
offline AI and a single local user, served on 127.0.0.1.

An explicit argument always wins over the environment::

    settings = Settings(home="/tmp/wb", ai={"text_provider": "openai"})
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = [
    "Settings",
    "StorageSettings",
    "AISettings",
    "EmbedderSettings",
    "LibrarySettings",
    "CreditSettings",
    "ServerSettings",
    "AuthSettings",
]


class StorageSettings(BaseModel):
    """Where the three stores live. Empty means "inside ``home``"."""

    metadata_path: str = Field("", description="DuckDB file path; default <home>/workbench.duckdb.")
    metadata_backend: Literal["duckdb", "postgres", "ducklake"] = Field(
        "duckdb", description="Where the metadata lives: the local DuckDB file (one process writes), PostgreSQL "
        "through DuckDB (several replicas and workers), or DuckLake with its catalog in PostgreSQL.")
    metadata_dsn: SecretStr | None = Field(
        None, description="PostgreSQL connection string for the postgres and ducklake backends "
        "(host=... port=... dbname=... user=... password=..., or postgresql://...).")
    metadata_data_path: str = Field(
        "", description="DuckLake's data files: a folder or az://container/prefix; default <home>/lake.")
    migrate_at_start: bool = Field(
        True, description="Apply pending schema migrations when a process opens the metadata (replicas take turns "
        "under a lock); false: refuse to start until `workbench migrate` has run.")
    vector_read_consistency_seconds: float = Field(
        5.0, ge=0, description="How stale a process's view of the vector tables may get before it looks for "
        "other processes' new vectors (0: on every read).")
    blob_url: str = Field(
        "", description="Blob root URL: file:///path, az://container/prefix or memory://name."
    )
    vector_url: str = Field(
        "", description="LanceDB location: a local directory or az://container/prefix."
    )
    vector_index_threshold: int = Field(
        5000, description="Rows above which a vector table gets an ANN index; below it search is exact."
    )
    checkpoint_seconds: float = Field(
        60.0, ge=0, description="Seconds between checkpoints of the metadata WAL while writes happen (0: only at "
        "shutdown)."
    )


class AISettings(BaseModel):
    """Which AI backends write text and make images."""

    text_provider: Literal["offline", "openai"] = Field("offline", description="Text generation backend.")
    image_provider: Literal["offline", "openai"] = Field("offline", description="Image generation backend.")
    base_url: str | None = Field(None, description="OpenAI-compatible endpoint; None means api.openai.com.")
    text_model: str = Field("gpt-4o-mini", description="Chat model name for the openai provider.")
    image_model: str = Field("gpt-image-1", description="Image model name for the openai provider.")
    timeout_seconds: float = Field(60.0, description="Per-request timeout for the AI provider.")
    max_retries: int = Field(3, description="Retries on 429 and 5xx answers, with backoff.")


class EmbedderSettings(BaseModel):
    """Which model turns images and words into vectors."""

    name: Literal["offline", "clip"] = Field("offline", description="Embedder: offline or clip (open_clip).")
    clip_model: str = Field("ViT-B-32", description="open_clip architecture name.")
    clip_checkpoint: str = Field(
        "", description="Local checkpoint file for open_clip, or an 'hf-hub:' id served from the local HF cache."
    )
    device: str = Field("auto", description="'auto' picks a GPU when one is present, else the CPU.")
    batch_size: int = Field(16, description="Images per inference batch.")


class LibrarySettings(BaseModel):
    """Limits on what an upload may be."""

    max_bytes: int = Field(25 * 1024 * 1024, description="Largest accepted upload in bytes.")
    max_pixels: int = Field(40_000_000, description="Largest accepted image in pixels (decompression-bomb guard).")
    thumbnail_px: int = Field(512, description="Longest side of stored thumbnails.")
    load_samples: bool = Field(True, description="Load the bundled sample images on first start.")
    job_lease_seconds: float = Field(
        60.0, gt=0, description="How long a claimed embedding job belongs to its worker without a heartbeat; "
        "a worker that died is taken over after this.")


class CreditSettings(BaseModel):
    """Plans and the price of each AI action in credits."""

    premium_allowance: int = Field(100, description="Credits a premium user gets per billing period.")
    abandoned_after_seconds: float = Field(
        900.0, gt=0, description="With several processes: a reservation still open after this long belongs to "
        "a process that died during its AI call, and reconcile refunds it.")
    free_allowance: int = Field(10, description="Credits a free user gets per billing period.")
    prices: dict[str, int] = Field(
        default_factory=lambda: {
            "idea": 1,
            "logline": 1,
            "outline": 2,
            "treatment": 3,
            "screenplay": 4,
            "continue_scene": 1,
            "rewrite": 1,
            "story_prompts": 1,
            "auto_suggestions": 1,
            "magic_board_frame": 2,
            "magic_board_plan": 1,
            "image": 2,
        },
        description="Credits each AI action costs.",
    )


class LimitSettings(BaseModel):
    """Per-person rate limits (0 turns one off)."""

    ai_per_minute: int = Field(20, ge=0, description="AI actions one person may start per minute.")
    uploads_per_minute: int = Field(300, ge=0, description="Pictures one person may upload per minute (a "
                                    "folder ingest from a notebook or the CLI is not counted).")
    share_links_per_hour: int = Field(30, ge=0, description="Share links one person may create per hour.")
    comments_per_minute: int = Field(30, ge=0, description="Comments one person or link guest may post per "
                                     "minute.")


class ServerSettings(BaseModel):
    """How the web workbench is served."""

    host: str = Field("127.0.0.1", description="Interface to bind.")
    port: int = Field(5006, description="HTTP port.")
    embed_in_web: bool = Field(
        True, description="Run the embedding worker inside the web process; false when dedicated `workbench "
        "worker` processes embed the uploads (several replicas).")
    public_url: str = Field("", description="Base URL used in share links; default http://host:port.")
    session_secret: SecretStr | None = Field(
        None, description="Key that signs the web app's Bokeh sessions; default a random key per process (replicas "
        "behind sticky sessions may each keep their own)."
    )
    allowed_hosts: list[str] = Field(
        default_factory=list, description="More host names the web app answers to (besides the public URL's and "
        "the bind address's); requests under any other Host header are refused."
    )


class AuthSettings(BaseModel):
    """Who the acting user is."""

    mode: Literal["local", "clerk"] = Field("local", description="local: one local user; clerk: Clerk tokens.")
    local_user_email: str = Field("filmmaker@localhost", description="Email of the single local user.")
    local_user_plan: Literal["free", "premium"] = Field("premium", description="Plan of the local user.")
    clerk_jwt_key: str = Field("", description="Clerk mode: the instance's PEM public key (JWKS), to verify "
                               "session tokens without a call to Clerk.")
    clerk_issuer: str = Field("", description="Clerk mode: the expected iss claim (the Frontend API URL).")
    clerk_authorized_parties: list[str] = Field(
        default_factory=list, description="Clerk mode: origins allowed in the azp claim, e.g. the public URL.")
    clerk_secret_key: SecretStr | None = Field(
        None, description="Clerk mode: the Backend API secret key (sk_...), to check that an open session was not "
        "signed out, revoked or banned, and to read a new user's email.")
    clerk_api_url: str = Field("https://api.clerk.com/v1", description="Clerk mode: the Backend API base URL.")
    clerk_sign_in_url: str = Field(
        "", description="Clerk mode: where signed-out browsers are sent (the Account Portal sign-in page, e.g. "
        "https://accounts.example.com/sign-in); it returns to the page they asked for.")
    clerk_publishable_key: str = Field(
        "", description="Clerk mode: the publishable key (pk_...) Clerk's browser script uses to keep the session "
        "cookie fresh.")
    clerk_revalidate_seconds: int = Field(
        30, ge=1, le=60, description="Clerk mode: how often an open page's Clerk session is re-checked with the "
        "Backend API; a signed-out, revoked, banned or deleted person stops acting within this window.")


class Settings(BaseSettings):
    """All configuration of one workbench."""

    model_config = SettingsConfigDict(
        env_prefix="WORKBENCH_", env_nested_delimiter="__", populate_by_name=True, extra="ignore"
    )

    home: Path = Field(default_factory=lambda: Path.cwd() / "workbench-data", description="Data folder.")
    log_format: Literal["text", "json"] = Field("text", description="Log lines: text, or one JSON object per line.")
    log_level: str = Field("INFO", description="Lowest level logged (DEBUG, INFO, WARNING, ERROR).")
    storage: StorageSettings = Field(default_factory=StorageSettings)
    ai: AISettings = Field(default_factory=AISettings)
    embedder: EmbedderSettings = Field(default_factory=EmbedderSettings)
    library: LibrarySettings = Field(default_factory=LibrarySettings)
    credits: CreditSettings = Field(default_factory=CreditSettings)
    limits: LimitSettings = Field(default_factory=LimitSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)

    azure_connection_string: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("AZURE_STORAGE_CONNECTION_STRING", "azure_connection_string"),
        description="Azure Storage connection string (az:// URLs).",
    )
    azure_account_name: str | None = Field(
        None,
        validation_alias=AliasChoices("AZURE_STORAGE_ACCOUNT_NAME", "azure_account_name"),
        description="Azure Storage account name, used with the key when no connection string is set.",
    )
    azure_account_key: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("AZURE_STORAGE_ACCOUNT_KEY", "azure_account_key"),
        description="Azure Storage account key.",
    )
    openai_api_key: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("OPENAI_API_KEY", "WORKBENCH_OPENAI_API_KEY", "openai_api_key"),
        description="API key for the openai text/image providers.",
    )

    @model_validator(mode="after")
    def _fill_defaults(self) -> Settings:
        self.home = Path(self.home).expanduser().absolute()
        if not self.storage.metadata_path:
            self.storage.metadata_path = str(self.home / "workbench.duckdb")
        if not self.storage.metadata_data_path:
            self.storage.metadata_data_path = str(self.home / "lake")
        if self.storage.metadata_backend != "duckdb" and self.storage.metadata_dsn is None:
            raise ValueError(f"WORKBENCH_STORAGE__METADATA_BACKEND={self.storage.metadata_backend} needs "
                             "WORKBENCH_STORAGE__METADATA_DSN (a PostgreSQL connection string)")
        if not self.storage.blob_url:
            self.storage.blob_url = (self.home / "blobs").as_uri()
        if not self.storage.vector_url:
            self.storage.vector_url = str(self.home / "vectors")
        if not self.server.public_url:
            self.server.public_url = f"http://{self.server.host}:{self.server.port}"
        return self

    def azure_credentials(self) -> dict[str, str]:
        """The Azure credentials as plain strings (read only when a backend is built)."""
        creds: dict[str, str] = {}
        if self.azure_connection_string:
            creds["connection_string"] = self.azure_connection_string.get_secret_value()
        if self.azure_account_name:
            creds["account_name"] = self.azure_account_name
        if self.azure_account_key:
            creds["account_key"] = self.azure_account_key.get_secret_value()
        return creds
