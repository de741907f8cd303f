# syntax=docker/dockerfile:1
# The operator image: `make docker-build IMG=...`. Two stages: the wheels of the package and of every
# dependency are built in the first (compilers available there, should a dependency need one); the final
# stage installs those wheels only (no compiler, no pip cache, no source tree) and runs as a non-root user.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml README.md ./
COPY opstack ./opstack
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="opstack-operator" \
      org.opencontainers.image.description="Kubernetes operator for OP Stack (Optimism) rollups" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    OPSTACK_LOG_FORMAT=json
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-cache-dir --no-index --find-links=/wheels opstack-operator \
 && useradd --uid 65532 --user-group --no-create-home --shell /usr/sbin/nologin operator
# The numeric id, so that runAsNonRoot can verify it without resolving the name.
USER 65532:65532
EXPOSE 8080 8081
ENTRYPOINT ["python", "-m", "opstack"]
