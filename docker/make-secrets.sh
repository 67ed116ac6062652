#!/bin/sh
# Writes the secrets docker/compose.yaml mounts as files, random where none
# exists yet: sh docker/make-secrets.sh [DIR] (default docker/secrets).
# For production put Meta's real app secret in DIR/app_secret and your own
# verify token in DIR/webhook_verify_token.
set -eu
dir=${1:-$(cd "$(dirname "$0")" && pwd)/secrets}
mkdir -p "$dir"
chmod 700 "$dir"
for name in db_password receiver_password app_secret webhook_verify_token; do
	[ -s "$dir/$name" ] && continue
	(umask 077; od -An -N24 -tx1 /dev/urandom | tr -d ' \n' > "$dir/$name")
	echo "wrote $dir/$name"
done
