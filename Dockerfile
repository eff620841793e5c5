# TAF Ledger: one image for every process (api, projector, relay, worker, beat, migrate).

# The web front end's assets: GOV.UK Frontend and htmx from npm (package-lock.json), compiled with sass.
FROM node:20-slim AS assets
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY bin/build-assets ./bin/build-assets
COPY web/scss ./web/scss
COPY web/js ./web/js
RUN bash bin/build-assets

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    TAF_DATA_DIR=/data

# libpq for psycopg (PostgreSQL event store); nothing else from the system.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpq5 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 10001 taf \
    && mkdir -p /data \
    && chown taf /data

WORKDIR /app
COPY pyproject.toml README.md ./
COPY domain ./domain
COPY projections ./projections
COPY api ./api
COPY workers ./workers
COPY web ./web
COPY --from=assets /build/web/static ./web/static
COPY taf ./taf
RUN pip install .

USER taf
EXPOSE 8000
CMD ["taf", "serve", "--host", "0.0.0.0"]
