# The API and the scheduler in one image; compose.yaml runs it as web, scheduler and a one-shot migrate.
# Every install step is in deploy/install.sh, which CI also runs on a plain host (tests/test_deployment.py).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

COPY . /src
RUN sh /src/deploy/install.sh /opt/vcc vcc && rm -rf /src

ENV PATH=/opt/vcc/venv/bin:$PATH \
    VCC_ENV=production \
    VCC_INSTANCE_PATH=/opt/vcc/instance \
    PROMETHEUS_MULTIPROC_DIR=/opt/vcc/metrics
WORKDIR /opt/vcc/app
USER vcc
EXPOSE 8000 9100
STOPSIGNAL SIGTERM
CMD ["gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"]
