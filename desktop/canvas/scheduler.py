"""The canvas's background rendering: render passes, their jobs, and the images they leave.

A pass starts a job in a thread pool for every visible layer whose cached
image no longer matches (view, data revision, selection), one for the
basemap when its image is stale, and, once those are in, one label pass.
A view change cancels the running jobs (they poll a flag between chunks)
and bumps a generation number, so results of an older view that still
arrive are discarded.  The scheduler never paints: it keeps the images and
asks its canvas to repaint.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, QThread, QThreadPool, QTimer

from layers.log import logger

from .render import CancelFlag, JobRelay, LabelImage, LayerImage, RenderJob, render_labels, render_layer

if TYPE_CHECKING:
    from .canvas import MapCanvas

__all__ = ["RenderScheduler"]

_log = logger(__name__)

_LABELS = "\x00labels"  # job key of the label pass; no layer can be named so
_BASEMAP = "\x00basemap"  # job key of the basemap render


class RenderScheduler(QObject):
    """The render passes of one :class:`~desktop.canvas.canvas.MapCanvas` and the images they made.

    Attributes
    ----------
    cache : dict of str to LayerImage
        The last accepted image of each layer.
    labels : LabelImage or None
        The last label pass.
    basemap_image : BasemapImage or None
        The basemap's image for the last rendered view.
    discarded : int
        How many stale job results were thrown away so far.
    """

    def __init__(self, canvas: MapCanvas) -> None:
        super().__init__(canvas)
        self.canvas = canvas
        self.cache: dict[str, LayerImage] = {}
        self.labels: LabelImage | None = None
        self._labels_key: tuple | None = None
        self.basemap_image = None
        self.discarded = 0
        self._generation = 0
        self._pending: dict[str, CancelFlag] = {}
        self._rendering = False
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max(2, QThread.idealThreadCount()))
        self._relay = JobRelay(self)
        self._relay.done.connect(self._job_done)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._start)

    def schedule(self, delay_ms: int = 0) -> None:
        """Start a render pass after ``delay_ms`` (a later call restarts the wait)."""
        self._timer.start(max(0, int(delay_ms)))

    def is_busy(self) -> bool:
        """Whether a render pass is running or scheduled."""
        return self._rendering or self._timer.isActive()

    def cancel(self) -> None:
        """Cancel the running jobs; results still arriving are discarded."""
        for flag in self._pending.values():
            flag.cancel()
        self._pending = {}
        self._generation += 1

    def shutdown(self) -> None:
        """Cancel every job and wait for the workers."""
        self._timer.stop()
        self.cancel()
        self._rendering = False
        self._pool.clear()
        self._pool.waitForDone()

    def _start(self) -> None:
        canvas = self.canvas
        self.cancel()
        generation = self._generation
        view = canvas.transform()
        settings = canvas.render_settings()
        self._rendering = True
        canvas.renderStarted.emit()
        basemap = canvas.basemap()
        cached = self.basemap_image
        if basemap is not None and (cached is None or cached.basemap is not basemap
                                    or cached.transform != view or cached.dpr != settings.dpr):
            flag = CancelFlag()
            self._pending[_BASEMAP] = flag
            work = basemap.prepare(view, settings)  # reprojects here, in the GUI thread
            self._pool.start(RenderJob(self._relay, generation, _BASEMAP, work, flag))
        for layer in canvas.visible_layers():
            name = layer.name
            key = canvas.selection_version(name)
            cached = self.cache.get(name)
            if (cached is not None and cached.transform == view and cached.dpr == settings.dpr
                    and cached.revision == layer.revision and cached.selection_key == key):
                continue
            flag = CancelFlag()
            self._pending[name] = flag
            selected = np.fromiter(canvas.selection(name), dtype=np.int64)
            work = partial(_render_layer_job, layer, view, settings, selected, key)
            self._pool.start(RenderJob(self._relay, generation, name, work, flag))
        if not self._pending:
            self._start_labels(generation)

    def _start_labels(self, generation: int) -> None:
        canvas = self.canvas
        view = canvas.transform()
        cached = [self.cache.get(layer.name) for layer in canvas.visible_layers()]
        cached = [c for c in cached if c is not None and c.transform == view]
        candidates = [c.labels for c in cached if c.labels is not None and len(c.labels.text)]
        key = (view, tuple(id(c) for c in cached))
        if not candidates:
            self.labels = None
            self._labels_key = key
            self._finish()
            return
        if key == self._labels_key and self.labels is not None:
            self._finish()
            return
        self._labels_key = key
        flag = CancelFlag()
        self._pending[_LABELS] = flag
        work = partial(_render_labels_job, candidates, view, canvas.render_settings())
        self._pool.start(RenderJob(self._relay, generation, _LABELS, work, flag))

    def _finish(self) -> None:
        self._rendering = False
        self.canvas.update()
        self.canvas.renderFinished.emit()

    def _job_done(self, generation: int, key: str, result) -> None:
        if generation != self._generation:
            self.discarded += 1
            return
        self._pending.pop(key, None)
        if isinstance(result, Exception):
            name = "" if key in (_LABELS, _BASEMAP) else key
            _log.error("rendering %s failed: %s", key, "".join(getattr(result, "__notes__", [])))
            self.canvas.renderError.emit(name, str(result))
        elif key == _LABELS:
            if result is not None:
                self.labels = result
        elif key == _BASEMAP:
            if result is not None and result.basemap is self.canvas.basemap():
                self.basemap_image = result
        elif result is not None:
            self.cache[key] = result
            self.canvas.layerRendered.emit(key)
        self.canvas.update()
        if not self._pending:
            if key == _LABELS:
                self._finish()
            else:
                self._start_labels(generation)


def _render_layer_job(layer, view, settings, selected, key, cancel):
    return render_layer(layer, view, settings, selected, key, cancel)


def _render_labels_job(candidates, view, settings, cancel):
    return render_labels(candidates, view, settings, cancel)
