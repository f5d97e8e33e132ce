# One image for web, worker and beat (docker-compose.yml picks the command).
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml ./
COPY config ./config
COPY accounts ./accounts
COPY policy ./policy
COPY moderation ./moderation
COPY templates ./templates
COPY static ./static
COPY manage.py ./
RUN pip install . && useradd --system --uid 1000 console && mkdir -p /app/var && chown console /app/var
# collectstatic needs settings but no services: throwaway values, never used at run time.
RUN DJANGO_SECRET_KEY=build DATABASE_URL=postgres://build@localhost/build REDIS_URL=redis://localhost \
    FIELD_ENCRYPTION_KEY=YnVpbGQtb25seS1idWlsZC1vbmx5LWJ1aWxkLW9ubHk= python manage.py collectstatic --noinput
USER console
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "30", "--access-logfile", "-"]
