# The image a release publishes (.goreleaser.yaml builds the binary and this file's
# context): the static binary and the CA certificates on an empty base, as a non-root
# user. The state and reports go on a mounted volume (samples/deploy).
FROM scratch
COPY .release/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
# An empty base has no /tmp, where a workbook is unpacked (made 1777 by the release's
# hook), and no home the non-root user could write its report and history to.
COPY .release/rootfs/ /
COPY --chown=65532:65532 .release/rootfs/var/lib/ /var/lib/
COPY ycm-onboard /usr/local/bin/ycm-onboard
ENV HOME=/var/lib/ycm-onboard XDG_STATE_HOME=/var/lib/ycm-onboard/state
WORKDIR /var/lib/ycm-onboard
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/ycm-onboard"]
CMD ["--help"]
