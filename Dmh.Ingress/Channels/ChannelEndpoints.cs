using System.Globalization;
using System.Text.RegularExpressions;
using Dapper;
using Dmh.Ingress.Http;
using Dmh.Ingress.Security;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace Dmh.Ingress.Channels;

/// <summary>Body of POST/PUT <c>/api/v1/channels</c>.</summary>
public sealed record ChannelInput(string? Code, string? Name, string? Note);

public sealed record ChannelView(long Id, string Code, string Name, string? Note, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

/// <summary>A campaign's link for one channel: the campaign's H5 URL with <c>c_id</c> set to the channel's code.</summary>
public sealed record ChannelLink(long ChannelId, string Code, string Name, string Url);

/// <summary>Channels (<c>/api/v1/channels</c>): the registered <c>c_id</c> codes of campaign links, and each campaign's link per channel.</summary>
public static partial class ChannelEndpoints
{
    public const int MaxChannels = 1000;

    [GeneratedRegex("^[A-Za-z0-9_-]{1,32}$")]
    private static partial Regex CodePattern();

    private sealed class Row
    {
        public long Id { get; set; }

        public string Code { get; set; } = "";

        public string Name { get; set; } = "";

        public string? Note { get; set; }

        public DateTime CreatedAt { get; set; }

        public DateTime UpdatedAt { get; set; }

        public ChannelView ToView() => new(Id, Code, Name, Note,
            new DateTimeOffset(DateTime.SpecifyKind(CreatedAt, DateTimeKind.Utc)), new DateTimeOffset(DateTime.SpecifyKind(UpdatedAt, DateTimeKind.Utc)));
    }

    private const string Columns = "id AS Id, code AS Code, name AS Name, note AS Note, created_at AS CreatedAt, updated_at AS UpdatedAt";

    public static IEndpointRouteBuilder MapChannelEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/channels").WithTags("Channels");
        group.MapGet("/", ListAsync).RequireAuthorization(Policies.AdminRead);
        group.MapPost("/", CreateAsync).RequireAuthorization(Policies.AdminWrite);
        group.MapPut("/{id:long}", UpdateAsync).RequireAuthorization(Policies.AdminWrite);
        group.MapDelete("/{id:long}", DeleteAsync).RequireAuthorization(Policies.AdminWrite);
        group.MapGet("/links", LinksAsync).RequireAuthorization(Policies.AdminRead);
        return app;
    }

    public static async Task<Ok<List<ChannelView>>> ListAsync(MySqlDataSource db, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        var rows = await c.QueryAsync<Row>(new CommandDefinition($"SELECT {Columns} FROM channels ORDER BY code LIMIT {MaxChannels}", cancellationToken: ct));
        return TypedResults.Ok(rows.Select(r => r.ToView()).ToList());
    }

    public static async Task<Results<Created<ChannelView>, ProblemHttpResult>> CreateAsync([FromBody] ChannelInput? input, MySqlDataSource db, CancellationToken ct)
    {
        if (Check(input) is { } invalid)
        {
            return invalid;
        }

        await using var c = await db.OpenConnectionAsync(ct);
        try
        {
            var id = await c.ExecuteScalarAsync<long>(new CommandDefinition(
                "INSERT INTO channels (code, name, note) VALUES (@Code, @Name, @Note); SELECT LAST_INSERT_ID();",
                new { Code = input!.Code!.Trim(), Name = input.Name!.Trim(), Note = Blank(input.Note) }, cancellationToken: ct));
            var row = await c.QuerySingleAsync<Row>(new CommandDefinition($"SELECT {Columns} FROM channels WHERE id = @id", new { id }, cancellationToken: ct));
            return TypedResults.Created($"/api/v1/channels/{id}", row.ToView());
        }
        catch (MySqlException ex) when (ex.ErrorCode == MySqlErrorCode.DuplicateKeyEntry)
        {
            return CodeTaken();
        }
    }

    public static async Task<Results<Ok<ChannelView>, ProblemHttpResult>> UpdateAsync(long id, [FromBody] ChannelInput? input, MySqlDataSource db, CancellationToken ct)
    {
        if (Check(input) is { } invalid)
        {
            return invalid;
        }

        await using var c = await db.OpenConnectionAsync(ct);
        try
        {
            await c.ExecuteAsync(new CommandDefinition("UPDATE channels SET code = @Code, name = @Name, note = @Note WHERE id = @id",
                new { id, Code = input!.Code!.Trim(), Name = input.Name!.Trim(), Note = Blank(input.Note) }, cancellationToken: ct));
        }
        catch (MySqlException ex) when (ex.ErrorCode == MySqlErrorCode.DuplicateKeyEntry)
        {
            return CodeTaken();
        }

        var row = await c.QuerySingleOrDefaultAsync<Row>(new CommandDefinition($"SELECT {Columns} FROM channels WHERE id = @id", new { id }, cancellationToken: ct));
        return row is null ? Problems.NotFound("Channel " + id.ToString(CultureInfo.InvariantCulture)) : TypedResults.Ok(row.ToView());
    }

    /// <summary>Deleting a channel keeps its figures: its code then shows as an unregistered channel.</summary>
    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(long id, MySqlDataSource db, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        var n = await c.ExecuteAsync(new CommandDefinition("DELETE FROM channels WHERE id = @id", new { id }, cancellationToken: ct));
        return n == 0 ? Problems.NotFound("Channel " + id.ToString(CultureInfo.InvariantCulture)) : TypedResults.NoContent();
    }

    /// <summary><c>GET /api/v1/channels/links?campaignId=</c>: the campaign's link for every channel.</summary>
    public static async Task<Results<Ok<List<ChannelLink>>, ProblemHttpResult>> LinksAsync(
        long? campaignId, MySqlDataSource db, IOptions<PublicOptions> pub, CancellationToken ct)
    {
        if (campaignId is not > 0)
        {
            return Problems.Validation("campaignId", "campaignId is a positive campaign id.");
        }

        await using var c = await db.OpenConnectionAsync(ct);
        if (await c.ExecuteScalarAsync<long>(new CommandDefinition("SELECT COUNT(*) FROM campaigns WHERE id = @campaignId AND deleted_at IS NULL",
                new { campaignId }, cancellationToken: ct)) == 0)
        {
            return Problems.NotFound("Campaign " + campaignId.Value.ToString(CultureInfo.InvariantCulture));
        }

        var rows = await c.QueryAsync<Row>(new CommandDefinition($"SELECT {Columns} FROM channels ORDER BY code LIMIT {MaxChannels}", cancellationToken: ct));
        var baseUrl = pub.Value.BaseUrl.TrimEnd('/') + "/h5/#/pages/campaign/index?id=" + campaignId.Value.ToString(CultureInfo.InvariantCulture);
        return TypedResults.Ok(rows.Select(r => new ChannelLink(r.Id, r.Code, r.Name, baseUrl + "&c_id=" + Uri.EscapeDataString(r.Code))).ToList());
    }

    private static ProblemHttpResult? Check(ChannelInput? input)
    {
        var errors = new FieldErrors();
        if (input?.Code is not { } code || !CodePattern().IsMatch(code.Trim()))
        {
            errors.Add("code", "code is 1 to 32 characters of A-Z a-z 0-9 _ - (it becomes the links' c_id).");
        }

        if (string.IsNullOrWhiteSpace(input?.Name) || input.Name.Trim().Length > 100)
        {
            errors.Add("name", "name is 1 to 100 characters.");
        }

        if (input?.Note is { Length: > 500 })
        {
            errors.Add("note", "note is at most 500 characters.");
        }

        return errors.Any ? Problems.Validation(errors) : null;
    }

    private static string? Blank(string? s) => string.IsNullOrWhiteSpace(s) ? null : s.Trim();

    private static ProblemHttpResult CodeTaken() =>
        Problems.Of(StatusCodes.Status409Conflict, "channel-code-taken", "A channel with this code exists.", "Channel codes are unique: choose another code.");
}
