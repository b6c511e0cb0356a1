#!/bin/sh
# Chính Hãng: nightly backup (docs/deploy.md, "Backups"). Run by chinhhang-backup.timer.
# A custom-format pg_dump (compressed, restorable table by table with pg_restore), checked by
# reading its table of contents, plus the shared data folder's uploads; old copies are pruned.
# Needs CHINHHANG_DATABASE_URL and CHINHHANG_DATA_DIR; BACKUP_DIR (/var/backups/chinhhang) and
# BACKUP_KEEP_DAYS (14). Copy the results off this machine too (the timer's job ends here).
set -eu
: "${CHINHHANG_DATABASE_URL:?set CHINHHANG_DATABASE_URL}"
: "${CHINHHANG_DATA_DIR:?set CHINHHANG_DATA_DIR}"
dir="${BACKUP_DIR:-/var/backups/chinhhang}"
keep="${BACKUP_KEEP_DAYS:-14}"
stamp=$(date -u +%Y%m%dT%H%MZ)
url=$(printf '%s' "$CHINHHANG_DATABASE_URL" | sed 's|^postgresql+psycopg2*://|postgresql://|')
umask 077
mkdir -p "$dir"
pg_dump --format=custom --file="$dir/chinhhang-$stamp.dump.part" "$url"
pg_restore --list "$dir/chinhhang-$stamp.dump.part" >/dev/null
mv "$dir/chinhhang-$stamp.dump.part" "$dir/chinhhang-$stamp.dump"
tar -C "$CHINHHANG_DATA_DIR" -czf "$dir/chinhhang-files-$stamp.tar.gz.part" \
    --ignore-failed-read media reports
mv "$dir/chinhhang-files-$stamp.tar.gz.part" "$dir/chinhhang-files-$stamp.tar.gz"
find "$dir" -maxdepth 1 -name 'chinhhang-*' -mtime +"$keep" -delete
