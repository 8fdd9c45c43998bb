# scitt-node: the SCITT Transparency Service, witness and federation node (docker-compose.yml runs four).
#   docker build -t scitt-node .
#   docker run --rm -v scitt-iot:/data scitt-node init --dir /data --origin scitt.example/iot --sector iot
#   docker run -v scitt-iot:/data -v "$PWD/configs:/etc/scitt:ro" -p 8080:8080 scitt-node start --config /etc/scitt/iot.json
FROM node:20
WORKDIR /app
COPY . .
RUN npm ci && npm run build
# Keys (0600), LevelDB and the node's own files live in the volume; nothing else is written. The node
# runs as the image's unprivileged `node` user, which owns /data (a new named volume inherits that).
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME /data
# HTTP (SCRAPI, C2SP tiles, /readyz, /metrics) and libp2p.
EXPOSE 8080 4001
# SIGTERM (docker stop) stops the node cleanly: pending registrations drained, a last checkpoint written.
ENTRYPOINT ["/app/packages/node/bin/scitt-node.js"]
CMD ["--help"]
