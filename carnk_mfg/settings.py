"""Settings, all read from the environment (12-factor; https://django-environ.readthedocs.io/).

With no DATABASE_URL / REDIS_URL the app uses the embedded PostgreSQL and Redis that
`carnk_mfg.localstack` starts under var/ (DESIGN section 9). DJANGO_ENV=production turns on
the deployment hardening that `manage.py check --deploy` looks for.
"""

from datetime import timedelta
from pathlib import Path

import django_stubs_ext
import environ
import pghistory
from csp.constants import NONE, SELF

from carnk_mfg import trail_trackers

# Django classes the type stubs declare generic (ModelAdmin[...] and others) get their
# subscript at run time too, so annotated code imports.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

DJANGO_ENV = env.str("DJANGO_ENV", default="development")
PRODUCTION = DJANGO_ENV == "production"

# https://docs.djangoproject.com/en/5.2/ref/settings/#secret-key
if PRODUCTION:
    SECRET_KEY = env.str("SECRET_KEY")
else:
    SECRET_KEY = env.str(
        "SECRET_KEY", default="dev-only-insecure-key-not-for-production-use-0123456789"
    )
DEBUG = env.bool("DEBUG", default=not PRODUCTION)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    # Kept only for its migrations' history: user tokens are knox's (hashed, expiring).
    "rest_framework.authtoken",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "pgtrigger",
    "pghistory",
    "pghistory.admin",
    "axes",
    "carnk_mfg",
    "batches",
    "qc",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Bodies over REQUEST_MAX_BYTES are refused before they are read.
    "carnk_mfg.request_limits.RequestSizeLimitMiddleware",
    # Content-Security-Policy on every answer (policy below).
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Ends browser sessions idle past SESSION_IDLE_TIMEOUT_MINUTES (shared terminals).
    "carnk_mfg.sessions.IdleSessionMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Every write made while serving a request carries the user and URL in the trail.
    "carnk_mfg.audit.AuditContextMiddleware",
    # Last, as django-axes asks: it checks lockouts after authentication.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "carnk_mfg.urls"
WSGI_APPLICATION = "carnk_mfg.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "carnk_mfg.roles.navigation",
                "qc.web.notices.unread_notices",
                "carnk_mfg.sessions.idle_timeout",
            ],
        },
    },
]

# https://django-environ.readthedocs.io/en/latest/types.html#environ-env-db-url
EMBEDDED_PG_DIR = VAR_DIR / "pgdata"
DATABASES = {
    "default": env.db_url(
        "DATABASE_URL", default=f"postgres://postgres@/carnk_mfg?host={EMBEDDED_PG_DIR}"
    )
}
# https://docs.djangoproject.com/en/5.2/ref/databases/#persistent-connections
# A worker keeps its connection between requests: opening one costs a page more than most of
# its queries. Each request's writes are still transactions of their own; the health check
# replaces a connection the database dropped before a request uses it.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

EMBEDDED_REDIS_SOCKET = VAR_DIR / "redis" / "redis.sock"
REDIS_URL = env.str("REDIS_URL", default=f"redis+socket://{EMBEDDED_REDIS_SOCKET}")
# The same Redis as redis-py names it (a socket unix://, where kombu says redis+socket://).
REDIS_CLIENT_URL = REDIS_URL.replace("redis+socket://", "unix://", 1)
# The cache holds only the sign-in throttles' counters, in the same Redis. Short timeouts: with
# Redis down, signing in goes on unthrottled (the lockout, kept in the database, still holds)
# rather than hanging.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_CLIENT_URL,
        "KEY_PREFIX": "carnk",
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }
}

AUTHENTICATION_BACKENDS = [
    # django-axes first: it refuses locked-out users before the password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Lockout (21 CFR 11.300(d)), see carnk_mfg/sign_in.py: wrong sign-in passwords lock a
# username from one client address; wrong signing passwords lock that person's e-signature,
# counted apart, so a guesser can lock neither a person's terminal nor their signature.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_LOCKOUT_PARAMETERS = "carnk_mfg.sign_in.lockout_parameters"
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=1.0)
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "carnk_mfg.sign_in.locked_out"
# Which client address the throttles and the lockout see. X-Forwarded-For is believed only as
# far as TRUSTED_PROXY_COUNT proxies of our own add to it (1 behind one TLS proxy); with none,
# the connection's own address counts, so a guesser cannot pick the address to be counted as.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
AXES_IPWARE_META_PRECEDENCE_ORDER: tuple[str, ...]
if TRUSTED_PROXY_COUNT:
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")
    AXES_IPWARE_PROXY_COUNT = TRUSTED_PROXY_COUNT
    AXES_IPWARE_PROXY_ORDER = "right-most"
else:
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("REMOTE_ADDR",)
# Sign-in attempts (login page and token endpoint) allowed per client address and per
# username, whether the password is right or wrong; more get a 429.
SIGN_IN_RATES = {
    "sign_in_address": env.str("SIGN_IN_RATE_PER_ADDRESS", default="20/minute"),
    "sign_in_username": env.str("SIGN_IN_RATE_PER_USERNAME", default="10/minute"),
}

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "carnk_mfg" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Audit trail (django-pghistory; DESIGN section 8) ---
# Wall-clock time of each change, not the start of its transaction.
PGHISTORY_CREATED_AT_FUNCTION = "CLOCK_TIMESTAMP()"
# Event tables refuse UPDATE and DELETE (a pgtrigger Protect trigger on each).
PGHISTORY_APPEND_ONLY = True
# Who and why are copied into every event row, so the trail stands on its own.
PGHISTORY_CONTEXT_FIELD = pghistory.ContextJSONField()
# Tables written in bulk are tracked per statement instead (carnk_mfg.trail_trackers).
PGHISTORY_DEFAULT_TRACKERS = (
    trail_trackers.InsertEvent(),
    trail_trackers.UpdateEvent(),
    trail_trackers.DeleteEvent(),
)
PGHISTORY_ADMIN_MODEL = "pghistory.MiddlewareEvents"

# The database role the application runs as in production; see README "Audit trail".
APP_DB_ROLE = env.str("APP_DB_ROLE", default="carnk_app")

# --- REST API (DESIGN section 10) ---
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "qc.authentication.InstrumentKeyAuthentication",
        "knox.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # The API reads JSON (nested lists and nulls do not survive form encoding); the file
    # upload declares its own multipart parser.
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    # Every list and sub-list: limit/offset checked (400 naming the bad one), at most
    # API_PAGE_SIZE_MAX rows a page.
    "DEFAULT_PAGINATION_CLASS": "carnk_mfg.api.pagination.CheckedLimitOffsetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        # Filters, search and ordering as declared; an empty choice or date is a 400.
        "carnk_mfg.api.filters.CheckedFilterBackend",
        "carnk_mfg.api.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    # Every operation's error answers too (400 ... 503), each with a typed body.
    "DEFAULT_SCHEMA_CLASS": "carnk_mfg.api.schema.DocumentedErrorsSchema",
    "EXCEPTION_HANDLER": "carnk_mfg.api.errors.exception_handler",
    # The throttles' client address (see TRUSTED_PROXY_COUNT).
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
}
API_PAGE_SIZE_MAX = env.int("API_PAGE_SIZE_MAX", default=500)
# A list counts its rows exactly up to this many past the page asked for; beyond, `count` is
# that bound and `count_exact` false, so a page of a long list costs what a short one does.
API_COUNT_AHEAD = env.int("API_COUNT_AHEAD", default=1_000)
# How many of each of a batch's sub-lists (steps, counts, deviations, custody) the batch's own
# answer embeds, newest; the rest are on the sub-list's pages.
BATCH_DETAIL_LATEST = env.int("BATCH_DETAIL_LATEST", default=20)
# User API tokens (django-rest-knox): stored as hashes, valid for API_TOKEN_HOURS from issue,
# revoked on a password change, a signing lockout and deactivation (carnk_mfg/sign_in.py).
REST_KNOX = {
    "TOKEN_TTL": timedelta(hours=env.float("API_TOKEN_HOURS", default=10.0)),
    "AUTO_REFRESH": False,
    "AUTH_HEADER_PREFIX": "Token",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "CAR-NK manufacturing tracker API",
    "DESCRIPTION": "GMP tracking of CAR-NK cells from cord blood unit to infusion.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI served from the installed sidecar package: nothing loads from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        # Each create links to the reads of what it created (OpenAPI links).
        "carnk_mfg.api.schema.link_created_records",
    ],
    "ENUM_NAME_OVERRIDES": {
        "UnitStatusEnum": "batches.models.donor.UnitStatus",
        "LotStatusEnum": "batches.models.materials.LotStatus",
        "EligibilityEnum": "batches.models.donor.Eligibility",
        "BatchStateEnum": "batches.models.batch_record.BatchState",
        "DeviationKindEnum": "batches.models.deviations.DeviationKind",
        "QcTestStateEnum": "qc.models.results.TestState",
        "MaterialKindEnum": "batches.models.templates.MaterialKind",
        "TemplateStatusEnum": "batches.models.templates.TemplateStatus",
        "DoseUnitStatusEnum": "batches.models.release.DoseUnitStatus",
        "ImportStatusEnum": "qc.models.imports.ImportStatus",
        "VectorRcrResultEnum": "batches.models.materials.RcrResult",
        "RecipientRcrResultEnum": "batches.models.clinical.RecipientRcrResult",
        "TrendSourceEnum": "qc.models.trends.TrendSource",
        "SignalAssessmentEnum": "qc.models.trends.SignalAssessment",
        "TrainingAssessmentEnum": "batches.models.training.Assessment",
        "EquipmentKindEnum": "batches.models.equipment.EquipmentKind",
        "EquipmentStatusEnum": "batches.models.equipment.EquipmentStatus",
        "DonorTestResultEnum": "batches.models.donor.DonorTestResult",
    },
}

# --- Celery (https://docs.celeryq.dev/en/stable/userguide/configuration.html) ---
CELERY_BROKER_URL = REDIS_URL
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
# One message at a time per worker process: scans are short, fairness matters more.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Kill a stuck task long before Redis would redeliver it (visibility timeout, 1 h).
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
# Acknowledge on receipt by default; only tasks that are safe to run twice opt in to
# acks_late (see qc.tasks), because Redis redelivers an unacknowledged message.
CELERY_TASK_ACKS_LATE = False
# A worker process is replaced after a task that left it above this resident size (KiB).
# Import parses run in child processes of their own (IMPORT_PARSE_MEMORY_MB); this catches
# whatever else grows a worker.
CELERY_WORKER_MAX_MEMORY_PER_CHILD = env.int("CELERY_WORKER_MAX_MEMORY_PER_CHILD", default=300_000)

# --- Instrument file import (qc/services/imports.py) ---
# Larger files are refused at upload, before any parse: split the export.
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=5_000)
# Limits of one parse's child process. A 5,000-row Vi-CELL BLU summary took 23-28 s and 534 MB
# of address space (bench/import_parse.py, 2 shared cores): about four times and twice that.
IMPORT_PARSE_SECONDS = env.int("IMPORT_PARSE_SECONDS", default=120)
IMPORT_PARSE_MEMORY_MB = env.int("IMPORT_PARSE_MEMORY_MB", default=1_024)
# Hand-overs of one import to the workers before it is failed (qc.requeue_stuck_imports).
IMPORT_PARSE_ATTEMPTS = env.int("IMPORT_PARSE_ATTEMPTS", default=3)
# Parses can be given workers of their own: `celery -A carnk_mfg worker -Q imports`.
IMPORT_PARSE_QUEUE = env.str("IMPORT_PARSE_QUEUE", default="celery")

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="carnk-mfg@localhost")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

if PRODUCTION:
    # https://docs.djangoproject.com/en/5.2/howto/deployment/checklist/
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    X_FRAME_OPTIONS = "DENY"
    # Signed-in sessions end with the browser and after 8 hours (11.300 good practice).
    SESSION_EXPIRE_AT_BROWSER_CLOSE = True
    SESSION_COOKIE_AGE = 8 * 3600

# The largest request body accepted (an instrument export of up to 5 MB, in its form): larger
# ones are refused by their Content-Length, unread, or cut off while streaming (413).
REQUEST_MAX_BYTES = env.int("REQUEST_MAX_BYTES", default=6 * 1024 * 1024)
# A body that is not a file upload (JSON, form fields) is held in memory up to this.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=2_621_440)
# Uploaded files above this go to a temporary file, not memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_HANDLERS = [
    "carnk_mfg.request_limits.LimitedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

# A signed-in browser session ends after this long without a request (shared lab terminals;
# pages warn two minutes before and offer to stay signed in).
SESSION_IDLE_TIMEOUT_MINUTES = env.float("SESSION_IDLE_TIMEOUT_MINUTES", default=15.0)

# Content-Security-Policy (django-csp): scripts, styles, images and fonts from this site only;
# no inline script or style (the pages keep theirs in static files), no plugins, no framing.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# --- Site parameters with published defaults (DESIGN section 3); change per site by env ---
CBU_MAX_COLLECTION_TO_CRYO_HOURS = env.float("CBU_MAX_COLLECTION_TO_CRYO_HOURS", default=24.0)
CBU_NRBC_FLAG_ABOVE = env.float("CBU_NRBC_FLAG_ABOVE", default=8e7)
# Donor tests (21 CFR 1271.80, 1271.85) a cord blood unit's donor must have, present, in the
# window and non-reactive, before QA may find her eligible (codes: batches.models.DonorMarker).
# Default: the relevant communicable disease agents of 1271.85(a) and (b) for viable,
# leukocyte-rich cells; NATs (HIV-1, HBV, HCV, WNV) are recorded where done and count when
# reactive, and a site that requires them lists them here.
DONOR_TESTS_REQUIRED = env.list(
    "DONOR_TESTS_REQUIRED",
    default=["hiv_1_2_ab", "hbsag", "anti_hbc", "hcv_ab", "syphilis", "htlv_i_ii", "cmv"],
)
# Markers whose reactive result does not by itself make the donor ineligible: the site's
# procedure governs the unit's use (1271.85(b)(2), CMV), and QA's notes name it.
DONOR_TESTS_REACTIVE_UNDER_PROCEDURE = env.list(
    "DONOR_TESTS_REACTIVE_UNDER_PROCEDURE", default=["cmv"]
)
# 1271.80(b): for cord blood, the maternal specimen is collected within 7 days before or
# after the collection of the cells.
DONOR_TEST_WINDOW_DAYS_BEFORE = env.int("DONOR_TEST_WINDOW_DAYS_BEFORE", default=7)
DONOR_TEST_WINDOW_DAYS_AFTER = env.int("DONOR_TEST_WINDOW_DAYS_AFTER", default=7)
# ISBT 128 facility identification number of this site (FIN, 5 characters), used for the
# batch DINs and Chain of Identity identifiers this site assigns.
ISBT_FACILITY_CODE = env.str("ISBT_FACILITY_CODE", default="W0420")

# Server secret of the instrument keys' keyed hash (HMAC-SHA256); rotate by re-issuing keys.
INSTRUMENT_KEY_SECRET = env.str("INSTRUMENT_KEY_SECRET", default=SECRET_KEY)
# Most readings one POST /api/v1/readings/ may carry.
READINGS_PER_REQUEST_MAX = env.int("READINGS_PER_REQUEST_MAX", default=1000)
# How many of each list of a batch's record (trail, signatures, steps, counts, custody,
# deviations) the batch page shows; each list's own page shows the rest.
BATCH_PAGE_LATEST = env.int("BATCH_PAGE_LATEST", default=10)

# A time a person or instrument reports (performed, measured, started, ended...) may be at most
# this far ahead of the server's clock (clocks on bench PCs and instruments drift); anything
# later is refused as a time in the future.
CLOCK_SKEW_ALLOWANCE_SECONDS = env.int("CLOCK_SKEW_ALLOWANCE_SECONDS", default=120)

# Follow-up visits after infusion (DESIGN section 6): (label, day after infusion).
FOLLOW_UP_SCHEDULE = [
    ("day 3", 3),
    ("week 1", 7),
    ("week 2", 14),
    ("week 3", 21),
    ("week 4", 28),
    ("week 8", 56),
    ("week 12", 84),
    ("month 3", 91),
    ("week 16", 112),
    ("month 6", 182),
    ("month 9", 273),
    ("month 12", 365),
]
# A product made with an integrating (retroviral) vector is followed for 15 years (FDA,
# long-term follow-up after gene therapy): after month 12, one visit a year to this year.
LONG_TERM_FOLLOW_UP_YEARS = env.int("LONG_TERM_FOLLOW_UP_YEARS", default=15)
# Recipient blood sampled for replication-competent retrovirus: before treatment (day 0) and
# at these days after; then at every yearly visit, kept and tested while earlier ones were
# negative.
RCR_SAMPLE_DAYS = [0, 91, 182, 365]

# --- Training (batches/models/training.py) ---
# Days a passed training stays current when its procedure sets no period of its own.
TRAINING_VALID_DAYS = env.int("TRAINING_VALID_DAYS", default=730)
# The trainee and their supervisor are told this many days before a training expires.
TRAINING_EXPIRY_WARNING_DAYS = env.int("TRAINING_EXPIRY_WARNING_DAYS", default=30)
# --- Lymphodepletion and the infusion (DESIGN sections 3 and 6) ---
# The preparative regimen the protocol expects: each agent's dose in mg/m2 a day and on how
# many days (by default fludarabine 30 mg/m2 and cyclophosphamide 500 mg/m2 on days -5 to -3).
LYMPHODEPLETION_REGIMEN = {
    "fludarabine": {
        "mg_per_m2": env.float("LYMPHODEPLETION_FLUDARABINE_MG_M2", default=30.0),
        "days": env.int("LYMPHODEPLETION_FLUDARABINE_DAYS", default=3),
    },
    "cyclophosphamide": {
        "mg_per_m2": env.float("LYMPHODEPLETION_CYCLOPHOSPHAMIDE_MG_M2", default=500.0),
        "days": env.int("LYMPHODEPLETION_CYCLOPHOSPHAMIDE_DAYS", default=3),
    },
}
# The window of the infusion after the last lymphodepletion dose, in days: day -3 to day 0 is
# 3 days; an infusion held up may wait up to 7 days (a dose on day -3 and infusion by day +4).
LYMPHODEPLETION_INFUSION_MIN_DAYS = env.int("LYMPHODEPLETION_INFUSION_MIN_DAYS", default=3)
LYMPHODEPLETION_INFUSION_MAX_DAYS = env.int("LYMPHODEPLETION_INFUSION_MAX_DAYS", default=7)
# How far the volume infused may differ from the volume prescribed (percent of it) before the
# difference needs a reason and opens a clinical deviation.
INFUSED_VOLUME_TOLERANCE_PCT = env.float("INFUSED_VOLUME_TOLERANCE_PCT", default=10.0)

# --- QC overdue flagging (DESIGN section 5) ---
QC_DUE_SOON_LEAD_HOURS = env.float("QC_DUE_SOON_LEAD_HOURS", default=4.0)
QC_ESCALATION_DELAY_HOURS = env.float("QC_ESCALATION_DELAY_HOURS", default=24.0)
# Process trending: the fewest points QA may fix control limits on, and the fewest a Cpk or
# Ppk is shown for (fewer give intervals too wide to mean anything).
TREND_BASELINE_MIN_POINTS = env.int("TREND_BASELINE_MIN_POINTS", default=10)
TREND_CAPABILITY_MIN_POINTS = env.int("TREND_CAPABILITY_MIN_POINTS", default=10)
# A chart (and the capability beside it) shows the newest this many batches; the CSV has all.
TREND_CHART_POINTS = env.int("TREND_CHART_POINTS", default=100)
# The schedule lives in code. `expires` drops a scan message that waited longer than the
# interval: the next minute's scan does the same work, so a backlog never piles up.
CELERY_BEAT_SCHEDULE = {
    "qc-overdue-scan": {
        "task": "qc.scan_overdue",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    "follow-up-overdue-scan": {
        "task": "batches.scan_overdue_visits",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    # An upload made while the broker was unreachable is kept `parsing` with no message
    # sent, and a parse lost with its worker leaves no message either: this hands such
    # imports to the workers again.
    "training-expiry-scan": {
        "task": "batches.scan_training_expiring",
        "schedule": 3600.0,
        "options": {"expires": 3500},
    },
    # Equipment calibrations falling due within 30 days, and those overdue: told once each.
    "equipment-calibration-scan": {
        "task": "batches.scan_calibrations_due",
        "schedule": 3600.0,
        "options": {"expires": 3500},
    },
    "capa-overdue-scan": {
        "task": "batches.scan_capas_overdue",
        "schedule": 3600.0,
        "options": {"expires": 3500},
    },
    "qc-import-requeue": {
        "task": "qc.requeue_stuck_imports",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    # New steps, counts and reviewed QC results become trend points; new points meet the
    # run rules.
    "trend-scan": {
        "task": "qc.scan_trends",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
}

# --- Bag label printer (thermal, ZPL II over raw TCP, the "port 9100" protocol) ---
# No host: no printer is configured, and printing says so (the ZPL can still be downloaded).
LABEL_PRINTER_HOST = env.str("LABEL_PRINTER_HOST", default="")
LABEL_PRINTER_PORT = env.int("LABEL_PRINTER_PORT", default=9100)
# Seconds to connect and to send; a printer that does not answer in time is a failed print.
LABEL_PRINTER_TIMEOUT = env.float("LABEL_PRINTER_TIMEOUT", default=5.0)
