/*
 * assets.c — antiban-receiver: the dashboard's static files.
 *
 * The built page (index.html, app.js, style.css and the chart library) is
 * a handful of small files: each is read once at start and its response
 * built once, so serving it touches neither the disk nor the database, and
 * no path from the network ever reaches the file system.
 */
#include "admin_http.h"
#include "assets.h"
#include "config.h"
#include "log.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct asset
{
	char		name[128];
	struct MHD_Response *response;
} asset;

static asset assets[ADMIN_ASSETS_MAX];
static int	n_assets;

static const struct
{
	const char *ext;
	const char *type;
}			types[] = {
	{".html", "text/html; charset=utf-8"},
	{".js", "text/javascript; charset=utf-8"},
	{".css", "text/css; charset=utf-8"},
	{".svg", "image/svg+xml"},
	{".png", "image/png"},
	{".ico", "image/x-icon"},
	{".json", "application/json"},
	{".map", "application/json"},
};

static const char *
content_type(const char *name)
{
	size_t		len = strlen(name);

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
	{
		size_t		elen = strlen(types[i].ext);

		if (len > elen && strcmp(name + len - elen, types[i].ext) == 0)
			return types[i].type;
	}
	return NULL;
}

static bool
name_ok(const char *name)
{
	if (!*name || *name == '.' || strlen(name) >= sizeof(assets[0].name))
		return false;
	for (const char *c = name; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
			  *c == '.' || *c == '-' || *c == '_'))
			return false;
	return content_type(name) != NULL;
}

static char *
read_file(const char *path, size_t *len)
{
	FILE	   *f = fopen(path, "rb");
	struct stat st;
	char	   *data;

	if (!f)
		return NULL;
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > ADMIN_ASSET_MAX ||
		!(data = malloc(st.st_size ? st.st_size : 1)))
	{
		fclose(f);
		return NULL;
	}
	*len = fread(data, 1, st.st_size, f);
	fclose(f);
	if (*len != (size_t) st.st_size)
	{
		free(data);
		return NULL;
	}
	return data;
}

static bool
load_one(const char *dir, const char *name)
{
	char		path[4096];
	size_t		len;
	char	   *data;
	struct MHD_Response *r;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (!(data = read_file(path, &len)))
	{
		log_line("dashboard asset %s not loaded (unreadable, not a file, or over %d bytes)",
				 path, ADMIN_ASSET_MAX);
		return false;
	}
	r = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
	if (!r)
	{
		free(data);
		return false;
	}
	if (!admin_http_headers(r, content_type(name), "no-cache"))
	{
		MHD_destroy_response(r);
		return false;
	}
	snprintf(assets[n_assets].name, sizeof(assets[n_assets].name), "%s", name);
	assets[n_assets++].response = r;
	return true;
}

int
assets_load(const char *dir)
{
	DIR		   *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return -1;
	while ((e = readdir(d)) && n_assets < ADMIN_ASSETS_MAX)
		if (name_ok(e->d_name))
			load_one(dir, e->d_name);
	closedir(d);
	return n_assets;
}

struct MHD_Response *
assets_find(const char *path)
{
	const char *name;

	if (strcmp(path, "/") == 0)
		path = "/index.html";
	if (path[0] != '/')
		return NULL;
	name = path + 1;
	for (int i = 0; i < n_assets; i++)
		if (strcmp(assets[i].name, name) == 0)
			return assets[i].response;
	return NULL;
}

void
assets_free(void)
{
	for (int i = 0; i < n_assets; i++)
		MHD_destroy_response(assets[i].response);
	n_assets = 0;
}
