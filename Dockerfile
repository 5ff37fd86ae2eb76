FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml alembic.ini README.md ./
COPY src ./src
COPY migrations ./migrations
COPY openapi ./openapi
RUN pip install --no-cache-dir -e . && useradd --create-home lrs && mkdir /data && chown lrs /data
USER lrs
ENV LRS_HOST=0.0.0.0 LRS_PORT=8000 LRS_DATA_DIR=/data
EXPOSE 8000
CMD ["lrs", "serve"]
