# The ledger's command line (ingest workers, read models' runner, the HTTP API) as an image.
FROM python:3.11-slim
RUN useradd --create-home --uid 10001 ledger
WORKDIR /app
COPY pyproject.toml README.md ./
COPY ledger ledger
COPY credentials credentials
COPY schemas schemas
COPY projections projections
COPY consumers consumers
COPY services services
COPY api api
COPY cli cli
COPY demo demo
RUN pip install --no-cache-dir .
USER ledger
ENTRYPOINT ["ledger"]
CMD ["--help"]
