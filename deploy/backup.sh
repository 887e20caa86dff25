#!/bin/sh
# The backup service: every BACKUP_EVERY seconds a pg_dump of the database, compressed, into
# /backups (the "backups" volume); only the newest BACKUP_KEEP are kept. BACKUP_ONCE=1: one dump, then exit.
#   restore: gunzip -c FILE | docker compose exec -T postgres psql -U digitbot -d digitbot
set -eu
every="${BACKUP_EVERY:-86400}"
keep="${BACKUP_KEEP:-14}"
while true; do
    name="/backups/digitbot-$(date -u +%Y%m%dT%H%M%SZ).sql.gz"
    if pg_dump -h postgres -U digitbot -d digitbot -Z 6 -f "$name.partial"; then
        mv "$name.partial" "$name"
        echo "backup: $name, $(wc -c < "$name") bytes"
    else
        rm -f "$name.partial"
        echo "backup: pg_dump failed; the previous backups are kept" >&2
    fi
    ls -1 /backups/digitbot-*.sql.gz 2> /dev/null | sort -r | tail -n "+$((keep + 1))" | xargs -r rm -f --
    if [ "${BACKUP_ONCE:-}" = 1 ]; then
        exit 0
    fi
    sleep "$every"
done
