#!/usr/bin/env python3
"""Check docker/compose.yaml without Docker: it must validate against the
Compose specification's JSON schema (the copy Debian's docker-compose
package ships) and give antiban what it needs: PostgreSQL with antiban and
pg_cron (role db) on a published port with a volume, the receiver, the
simulator only in profile "demo", a healthcheck for each, secrets as files,
and one image built from docker/Dockerfile.  Prints one line per check and
exits non-zero if any fails.  usage: compose_check.py COMPOSE_FILE"""
import json
import os
import re
import sys

import jsonschema
import yaml

SCHEMA = '/usr/lib/python3/dist-packages/compose/config/compose_spec.json'

failed = 0


def check(ok, what):
    global failed
    print(('ok' if ok else 'not ok') + ' - ' + what)
    if not ok:
        failed += 1


def main(path):
    with open(path) as f:
        doc = yaml.safe_load(f)
    with open(SCHEMA) as f:
        schema = json.load(f)
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(doc), key=lambda e: list(e.path))
    for e in errors:
        print('# schema: %s: %s' % ('/'.join(str(p) for p in e.path) or '(top)', e.message))
    check(not errors, 'the file validates against the Compose specification schema')

    services = doc.get('services', {})
    check(set(services) == {'db', 'receiver', 'simulator'}, 'services are db, receiver and simulator')
    roles = set(re.findall(r'^\t([a-z]+)\) ', open(os.path.join(os.path.dirname(path), 'entrypoint.sh')).read(), re.M))
    for name, svc in services.items():
        check(svc.get('build', {}).get('dockerfile') == 'docker/Dockerfile',
              '%s is built from docker/Dockerfile (the scripts CI runs)' % name)
        check(svc.get('command', [None])[0] in roles, '%s runs an entrypoint role (%s)' % (name, svc.get('command')))
        check(bool(svc.get('healthcheck', {}).get('test')), '%s has a healthcheck' % name)
    check(services['simulator'].get('profiles') == ['demo'], 'the simulator runs only in profile demo')
    check(all(not services[s].get('profiles') for s in ('db', 'receiver')), 'db and receiver run in every profile')
    check(any(str(p).endswith(':5432') for p in services['db'].get('ports', [])), 'the database is published on a port')
    check(any(str(v).startswith('pgdata:') for v in services['db'].get('volumes', [])) and 'pgdata' in doc.get('volumes', {}),
          'the database lives in a named volume')
    secrets = doc.get('secrets', {})
    check(secrets and all(set(s) == {'file'} for s in secrets.values()), 'secrets are passed as files')
    used = {s for svc in services.values() for s in svc.get('secrets', [])}
    check(used <= set(secrets), 'every secret a service uses is declared')
    check({'db_password', 'receiver_password', 'app_secret', 'webhook_verify_token'} <= set(services['db'].get('secrets', [])),
          'db gets the secrets it sets up antiban with')
    for name in ('receiver', 'simulator'):
        dep = services[name].get('depends_on', {})
        check(all(d.get('condition') == 'service_healthy' for d in dep.values()) and dep,
              '%s waits for what it needs to be healthy' % name)
    print('compose: %d failed' % failed)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else 'docker/compose.yaml'))
