FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml setup.py alembic.ini README.md ./
COPY src ./src
COPY migrations ./migrations
COPY openapi ./openapi
# gcc for the install only: setup.py compiles the statement path with mypyc (ADR 0010), then the compiler goes
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev \
    && pip install --no-cache-dir -e . \
    && apt-get purge -y --auto-remove gcc libc6-dev && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home lrs && mkdir /data && chown lrs /data
USER lrs
ENV LRS_HOST=0.0.0.0 LRS_PORT=8000 LRS_DATA_DIR=/data
EXPOSE 8000
CMD ["lrs", "serve"]
