using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Options;

namespace Dmh.Ingress.Frontends;

public sealed class FrontendOptions
{
    public const string SectionName = "Frontends";

    /// <summary>Built admin console (admin/dist), served at /admin/.</summary>
    public string? AdminDist { get; set; }

    /// <summary>Built H5 page (h5/dist/build/h5), served at /h5/.</summary>
    public string? H5Dist { get; set; }
}

/// <summary>Serves the built front ends so one URL runs the whole product.</summary>
public static class FrontendEndpoints
{
    public static WebApplicationBuilder AddFrontends(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<FrontendOptions>().BindConfiguration(FrontendOptions.SectionName);
        return builder;
    }

    public static WebApplication MapFrontends(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<FrontendOptions>>().Value;
        Serve(app, "/admin", options.AdminDist, spaFallback: true);
        Serve(app, "/h5", options.H5Dist, spaFallback: false);
        app.MapGet("/", () => TypedResults.Redirect("/admin/")).ExcludeFromDescription();
        return app;
    }

    private static void Serve(WebApplication app, string path, string? directory, bool spaFallback)
    {
        if (string.IsNullOrWhiteSpace(directory) || !Directory.Exists(directory))
        {
            app.Logger.LogWarning("Front end for {Path} not found at {Directory}; run ./dmh up to build it", path, directory);
            return;
        }

        var files = new PhysicalFileProvider(Path.GetFullPath(directory));
        app.MapGet(path, () => TypedResults.Redirect(path + "/")).ExcludeFromDescription();
        app.UseDefaultFiles(new DefaultFilesOptions { RequestPath = path, FileProvider = files });
        app.UseStaticFiles(new StaticFileOptions { RequestPath = path, FileProvider = files });
        if (spaFallback)
        {
            // History-mode routes such as /admin/campaigns/3 load the SPA's index.html.
            app.MapFallbackToFile(path + "/{*route:nonfile}", "index.html", new StaticFileOptions { FileProvider = files });
        }
    }
}
