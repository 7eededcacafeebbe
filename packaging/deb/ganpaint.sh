#!/bin/sh
# /usr/bin/ganpaint: GANPaint is a frozen one-folder bundle (its own Python, Qt and torch)
# installed in /opt/ganpaint; this wrapper only starts it, passing every argument on.
exec /opt/ganpaint/ganpaint "$@"
