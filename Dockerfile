# One image for web, worker and beat (docker-compose.yml picks the command).
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml setup.py ./
COPY config ./config
COPY accounts ./accounts
COPY policy ./policy
COPY moderation ./moderation
COPY templates ./templates
COPY static ./static
COPY manage.py ./
# An editable install compiles the policy engine's hot modules with mypyc in place (setup.py),
# where the app imports them from; the C compiler is removed again in the same layer.
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev \
    && pip install -e . \
    && apt-get purge -y gcc libc6-dev && apt-get autoremove -y && rm -rf /var/lib/apt/lists/* build \
    && python -c "import policy.engine as e; assert e.COMPILED, 'policy engine not compiled'" \
    && useradd --system --uid 1000 console && mkdir -p /app/var && chown console /app/var
# collectstatic needs settings but no services: throwaway values, never used at run time.
RUN DJANGO_SECRET_KEY=build DATABASE_URL=postgres://build@localhost/build REDIS_URL=redis://localhost \
    FIELD_ENCRYPTION_KEY=YnVpbGQtb25seS1idWlsZC1vbmx5LWJ1aWxkLW9ubHk= python manage.py collectstatic --noinput
USER console
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "30", "--access-logfile", "-"]
