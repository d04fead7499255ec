/* png — see png.h. */
#include "png.h"

#include <stdio.h>

#include <cairo.h>
#include <librsvg/rsvg.h>

int
svg_write_png(const char *svg, size_t len, double scale, const char *path, char *why,
    size_t whylen)
{
	GError *error = NULL;
	RsvgHandle *h = rsvg_handle_new_from_data((const guint8 *)svg, len, &error);
	gdouble w = 0, ht = 0;
	cairo_surface_t *surface;
	cairo_t *cr;
	cairo_status_t st;
	RsvgRectangle viewport;
	int rc = 0;

	if (h == NULL) {
		snprintf(why, whylen, "librsvg cannot read the figure: %s",
		    error ? error->message : "no reason given");
		g_clear_error(&error);
		return -1;
	}
	if (!rsvg_handle_get_intrinsic_size_in_pixels(h, &w, &ht) || !(w > 0 && ht > 0)) {
		snprintf(why, whylen, "the figure has no size in pixels");
		g_object_unref(h);
		return -1;
	}
	surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, (int)(w * scale + 0.5),
	    (int)(ht * scale + 0.5));
	cr = cairo_create(surface);
	viewport = (RsvgRectangle){ 0, 0, w * scale, ht * scale };
	if (!rsvg_handle_render_document(h, cr, &viewport, &error)) {
		snprintf(why, whylen, "librsvg cannot draw the figure: %s",
		    error ? error->message : "no reason given");
		g_clear_error(&error);
		rc = -1;
	}
	if (rc == 0 && (st = cairo_surface_write_to_png(surface, path)) != CAIRO_STATUS_SUCCESS) {
		snprintf(why, whylen, "cannot write %s: %s", path, cairo_status_to_string(st));
		rc = -1;
	}
	cairo_destroy(cr);
	cairo_surface_destroy(surface);
	g_object_unref(h);
	return rc;
}
