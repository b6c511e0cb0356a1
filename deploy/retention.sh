#!/bin/sh
# Chính Hãng: manual retention (docs/deploy.md, "Retention"), e.g. daily from a systemd timer.
# Runs deploy/retention.sql in one transaction, then deletes the report photos it released.
# Needs CHINHHANG_DATABASE_URL (postgresql://…) and CHINHHANG_DATA_DIR; RETENTION_DAYS (365).
set -eu
: "${CHINHHANG_DATABASE_URL:?set CHINHHANG_DATABASE_URL}"
: "${CHINHHANG_DATA_DIR:?set CHINHHANG_DATA_DIR}"
days="${RETENTION_DAYS:-365}"
# psql takes postgresql:// and postgres://, not SQLAlchemy's postgresql+psycopg://.
url=$(printf '%s' "$CHINHHANG_DATABASE_URL" | sed 's|^postgresql+psycopg2*://|postgresql://|')
photos=$(mktemp)
trap 'rm -f "$photos"' EXIT
psql "$url" -X -q -At -v ON_ERROR_STOP=1 -v days="$days" \
    -f "$(dirname "$0")/retention.sql" >"$photos"
# After the COMMIT: a failed run leaves the files and their rows as they were. Only names the
# app itself writes (32 hex digits .jpg) are taken, so a stray line can delete nothing else.
grep -E '^[0-9a-f]{32}\.jpg$' "$photos" | while read -r name; do
    rm -f -- "$CHINHHANG_DATA_DIR/reports/$name"
done
