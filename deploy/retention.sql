-- Chính Hãng: manual retention (docs/deploy.md, "Retention"). PostgreSQL, psql 13 or later.
--
--   psql "$PGURL" -X -q -At -v ON_ERROR_STOP=1 -v days=365 -f deploy/retention.sql
--
-- One transaction. Counts stay: scan events keep their rows (the regulator's figures per day,
-- province and product, the stamps' histories and the EPCIS sale events are counted from
-- them); only the details that point at a person go. What it did is written to stderr; the
-- names of the report photos to delete from $CHINHHANG_DATA_DIR/reports/ go to stdout
-- (deploy/retention.sh deletes them after the COMMIT).
\if :{?days}
\else
  \set days 365
\endif

BEGIN;
SELECT now() - make_interval(days => :days) AS cutoff \gset

-- Scan events: the client's network (/24 or /48), the user agent and the consented position
-- (rounded to ~1 km). The province stays: it is coarse, consented, and counted by province.
UPDATE scan_events
   SET client_net = NULL, user_agent = NULL, latitude = NULL, longitude = NULL
 WHERE scanned_at < :'cutoff'
   AND (client_net IS NOT NULL OR user_agent IS NOT NULL
        OR latitude IS NOT NULL OR longitude IS NOT NULL);
\warn scan_events cleared: :ROW_COUNT

-- Closed alerts: the guessing client's network (the stamp, counts and times stay).
UPDATE alerts SET client_net = NULL
 WHERE status = 'closed' AND last_at < :'cutoff' AND client_net IS NOT NULL;
\warn alerts cleared: :ROW_COUNT

-- Warranty registrations whose warranty ended before the cutoff: the buyer's name and phone.
-- The row stays (it is counted, and its stamp cannot be registered twice).
UPDATE warranty_registrations SET name = '', phone = ''
 WHERE ends_on < CAST(:'cutoff' AS date) AND (name <> '' OR phone <> '');
\warn warranty_registrations cleared: :ROW_COUNT

-- Housekeeping: expired portal sign-ins (nothing else deletes them).
DELETE FROM login_sessions WHERE expires_at < now();
\warn login_sessions deleted: :ROW_COUNT

-- Settled shoppers' reports (confirmed or dismissed, untouched since the cutoff): the
-- shopper's contact details and the photo. The report itself, its notes and status stay.
-- Last, because its answer is the list of photo files to delete (stdout).
WITH settled AS (
    SELECT id, photo_file FROM shopper_reports
     WHERE status IN ('confirmed', 'dismissed') AND updated_at < :'cutoff'
       AND (photo_file IS NOT NULL OR contact_name IS NOT NULL
            OR contact_phone IS NOT NULL OR contact_email IS NOT NULL)
       FOR UPDATE
), cleared AS (
    UPDATE shopper_reports AS r
       SET photo_file = NULL, contact_name = NULL, contact_phone = NULL, contact_email = NULL
      FROM settled
     WHERE r.id = settled.id
    RETURNING settled.photo_file
)
SELECT photo_file FROM cleared WHERE photo_file IS NOT NULL;
\warn shopper_reports photos to delete: :ROW_COUNT
COMMIT;
