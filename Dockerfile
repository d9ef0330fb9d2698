# User-code image of the Saqi code location, the image `configs/deploy/helm-values.yaml` names
# (dagster-user-deployments: repository saqi/saqi, tag = pyproject version). It serves the code
# location over gRPC on port 3030 (`dagster code-server`); the Helm chart's run launcher starts runs
# from the same image. Build: docker build -t <registry>/saqi/saqi:0.1.0 .
# The install is the Makefile's: the pinned lock, torch/torchvision from constraints.txt, then the
# package itself without dependencies.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DAGSTER_HOME=/opt/dagster/home SAQI_DATA_ROOT=/data
# Fonts for Arabic/Latin reports and the Pango libraries WeasyPrint renders with (as `make debs`).
RUN apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
       fonts-noto-core fonts-dejavu-core libpango-1.0-0 libpangoft2-1.0-0 \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/saqi
COPY requirements.lock constraints.txt ./
RUN pip install -q uv==0.13.9 \
    && pip install -q -r constraints.txt \
    && uv pip install -q --system -c constraints.txt -r requirements.lock
COPY pyproject.toml README.md workspace.yaml ./
COPY pipelines ./pipelines
COPY assets ./assets
COPY models ./models
COPY configs ./configs
RUN uv pip install -q --system --no-deps . && mkdir -p "$DAGSTER_HOME" /data && chown -R 1000 "$DAGSTER_HOME" /data

ENV SAQI_CONFIGS=/opt/saqi/configs
EXPOSE 3030
USER 1000
CMD ["dagster", "code-server", "start", "-h", "0.0.0.0", "-p", "3030", "-m", "pipelines.orchestration.definitions"]
