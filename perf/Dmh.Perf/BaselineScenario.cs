using System.Globalization;
using System.Text;
using System.Text.Json;
using Dmh.Platform.Database;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using MySqlConnector;

namespace Dmh.Perf;

/// <summary>
/// The bare ceiling a registration is compared with: a minimal Kestrel endpoint in the runner that
/// reads a registration-sized JSON body and does one INSERT into DMH's MariaDB (the perf database,
/// <c>Database__ConnectionString</c>) per request, with the connection settings DMH's services use.
/// </summary>
public sealed class BaselineScenario : IScenario
{
    private readonly long _phoneBase = 13_000_000_000L + Random.Shared.NextInt64(0, 900_000_000L);
    private WebApplication? _app;
    private MySqlDataSource? _db;

    public async Task<Uri> SetUpAsync(RunOptions options, CancellationToken ct)
    {
        _db = new MySqlDataSourceBuilder(DatabaseExtensions.Normalize(PerfSystem.Required("Database__ConnectionString"))).Build();
        await using (var connection = await _db.OpenConnectionAsync(ct))
        {
            await using var create = new MySqlCommand("""
                CREATE TABLE IF NOT EXISTS perf_baseline (
                    id BIGINT PRIMARY KEY AUTO_INCREMENT,
                    phone VARCHAR(20) NOT NULL,
                    form_data JSON NOT NULL,
                    created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
                ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
                """, connection);
            await create.ExecuteNonQueryAsync(ct);
        }

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _app = builder.Build();
        var db = _db;
        _app.MapPost("/baseline", async (HttpRequest request, CancellationToken token) =>
        {
            using var body = await JsonDocument.ParseAsync(request.Body, cancellationToken: token);
            await using var connection = await db.OpenConnectionAsync(token);
            await using var insert = new MySqlCommand("INSERT INTO perf_baseline (phone, form_data) VALUES (@phone, @form); SELECT LAST_INSERT_ID();", connection);
            insert.Parameters.AddWithValue("@phone", body.RootElement.GetProperty("phone").GetString());
            insert.Parameters.AddWithValue("@form", body.RootElement.GetProperty("formData").GetRawText());
            var id = Convert.ToInt64(await insert.ExecuteScalarAsync(token), CultureInfo.InvariantCulture);
            return Results.Json(new { id }, statusCode: StatusCodes.Status201Created);
        });
        await _app.StartAsync(ct);
        var address = _app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        return new Uri(address);
    }

    public HttpRequestMessage CreateRequest(Uri baseUrl, long index)
    {
        var body = $$$"""{"phone":"{{{(_phoneBase + index).ToString(CultureInfo.InvariantCulture)}}}","formData":{"name":"学员{{{index % 1000}}}","grade":"二年级"}}""";
        return new HttpRequestMessage(HttpMethod.Post, new Uri(baseUrl, "/baseline"))
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        if (_db is not null)
        {
            await _db.DisposeAsync();
        }
    }
}
