using System.Collections.Concurrent;
using System.Text.Json;

namespace Dmh.WechatSim;

/// <summary>One subscribe notice the simulator accepted, as <c>bizsend</c> received it.</summary>
public sealed record SubscribeRecord(string ToUser, string TemplateId, string? Page, Dictionary<string, string> Data, DateTimeOffset At);

/// <summary>One answer of the open tag's popup (<c>wx-open-subscribe</c>), as the shim reported it.</summary>
public sealed record PopupRecord(string[] TemplateIds, string Status, string Page, DateTimeOffset At);

/// <summary>What <c>bizsend</c> received, the errcodes a test queued, and the open tag's popups.</summary>
public sealed class SubscribeState
{
    private const int Keep = 1000;

    public ConcurrentQueue<SubscribeRecord> Messages { get; } = new();

    public ConcurrentQueue<int> Faults { get; } = new();

    public ConcurrentQueue<PopupRecord> Popups { get; } = new();

    public void Add(SubscribeRecord record)
    {
        Messages.Enqueue(record);
        while (Messages.Count > Keep && Messages.TryDequeue(out _))
        {
        }
    }
}

/// <summary>
/// The official account's subscribe notices (订阅通知): <c>POST /cgi-bin/message/subscribe/bizsend</c> as
/// api.weixin.qq.com answers it (token check, the body's required fields, errcode/errmsg), a record of what
/// it accepted (<c>GET /sim/subscribe/messages?openid=</c>) and queued failures
/// (<c>POST /sim/subscribe/faults</c>). The JS-SDK stand-in's <c>wx-open-subscribe</c> reports its popups to
/// <c>POST /sim/subscribe/popups</c>. docs/API.md, "Reward notices".
/// </summary>
public static class SubscribeMessages
{
    public sealed record FaultCommand(int? Errcode, int? Count);

    public sealed record PopupCommand(string[]? TemplateIds, string? Status, string? Page);

    public static IEndpointRouteBuilder MapSubscribeMessages(this IEndpointRouteBuilder app)
    {
        app.MapPost("/cgi-bin/message/subscribe/bizsend", BizSendAsync);
        app.MapGet("/sim/subscribe/messages", (SubscribeState state, string? openid) =>
            TypedResults.Ok(state.Messages.Where(m => openid is null || m.ToUser == openid).ToList()));
        app.MapPost("/sim/subscribe/faults", (FaultCommand command, SubscribeState state) =>
        {
            if (command.Errcode is not { } code || code == 0)
            {
                return Results.BadRequest(new { errcode = 40035, errmsg = "errcode required (not 0)" });
            }

            for (var i = 0; i < Math.Clamp(command.Count ?? 1, 1, 100); i++)
            {
                state.Faults.Enqueue(code);
            }

            return Results.Ok(new { queued = state.Faults.Count });
        });
        app.MapPost("/sim/subscribe/popups", (PopupCommand command, SubscribeState state, TimeProvider time) =>
        {
            if (command.TemplateIds is not { Length: > 0 } ids || command.Status is not ("accept" or "reject"))
            {
                return Results.BadRequest(new { errMsg = "subscribe:fail, invalid args" });
            }

            state.Popups.Enqueue(new PopupRecord(ids, command.Status, command.Page ?? "", time.GetUtcNow()));
            return Results.Ok(new { errMsg = "subscribe:ok" });
        }).RequireCors(PayPages.CorsPolicy);
        app.MapGet("/sim/subscribe/popups", (SubscribeState state) => TypedResults.Ok(state.Popups.ToList()));
        return app;
    }

    private static async Task<IResult> BizSendAsync(HttpContext context, MpState mp, SubscribeState state, TimeProvider time)
    {
        if (!mp.AccessTokens.TryGetValue(context.Request.Query["access_token"].ToString(), out var expires) || expires <= time.GetUtcNow())
        {
            return TypedResults.Json(new { errcode = 40001, errmsg = "invalid credential, access_token is invalid or not latest" });
        }

        JsonElement body;
        try
        {
            body = await JsonSerializer.DeserializeAsync<JsonElement>(context.Request.Body);
        }
        catch (JsonException)
        {
            return TypedResults.Json(new { errcode = 47001, errmsg = "data format error" });
        }

        string? Text(string name) => body.ValueKind == JsonValueKind.Object && body.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        var touser = Text("touser");
        var template = Text("template_id");
        if (string.IsNullOrEmpty(touser) || string.IsNullOrEmpty(template)
            || !body.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Object)
        {
            return TypedResults.Json(new { errcode = 47003, errmsg = "argument invalid! data.touser, template_id and data are required" });
        }

        var values = new Dictionary<string, string>();
        foreach (var keyword in data.EnumerateObject())
        {
            if (keyword.Value.ValueKind != JsonValueKind.Object || !keyword.Value.TryGetProperty("value", out var value) || value.ValueKind != JsonValueKind.String)
            {
                return TypedResults.Json(new { errcode = 47003, errmsg = $"argument invalid! data.{keyword.Name}.value" });
            }

            // WeChat's rule for thing keywords: at most 20 characters.
            if (keyword.Name.StartsWith("thing", StringComparison.Ordinal) && value.GetString()!.Length > 20)
            {
                return TypedResults.Json(new { errcode = 47003, errmsg = $"argument invalid! data.{keyword.Name}.value exceeds 20 characters" });
            }

            values[keyword.Name] = value.GetString()!;
        }

        if (state.Faults.TryDequeue(out var fault))
        {
            return TypedResults.Json(new { errcode = fault, errmsg = fault == -1 ? "system error" : "simulated failure" });
        }

        state.Add(new SubscribeRecord(touser, template, Text("page"), values, time.GetUtcNow()));
        return TypedResults.Json(new { errcode = 0, errmsg = "ok" });
    }

    /// <summary>
    /// The open tag as the H5 page meets it inside WeChat: after <c>wx.config</c> with
    /// <c>openTagList: ['wx-open-subscribe']</c>, the element shows its <c>text/wxtag-template</c> content; a tap
    /// opens WeChat's popup (here a sheet with 允许 / 取消, or <c>window.__wxSubscribeAnswer</c> when a test sets
    /// it) and fires <c>success</c> with <c>detail.subscribeDetails</c> = JSON of template id → JSON of
    /// <c>{status}</c>, or <c>error</c> when the config did not ask for the tag.
    /// </summary>
    public const string OpenTagShim = """
          if (window.customElements && !window.customElements.get('wx-open-subscribe')) {
            var fire = function (el, name, detail) { el.dispatchEvent(new CustomEvent(name, { detail: detail })); };
            var ask = function (ids, done) {
              if (window.__wxSubscribeAnswer) { done(window.__wxSubscribeAnswer); return; }
              var sheet = document.createElement('div');
              sheet.setAttribute('data-sim', 'subscribe-popup');
              sheet.style.cssText = 'position:fixed;inset:0;background:rgba(0,0,0,.45);z-index:99999;display:flex;align-items:flex-end';
              sheet.innerHTML = '<div style="background:#fff;width:100%;border-radius:12px 12px 0 0;padding:20px 20px 28px;font:15px/1.5 -apple-system,sans-serif">'
                + '<div style="font-weight:600;margin-bottom:6px">公众号申请向你发送以下通知</div>'
                + '<div style="color:#666;margin-bottom:18px">推广奖励到账通知（' + ids.length + ' 条，每次同意可收到一次）</div>'
                + '<div style="display:flex;gap:12px"><button data-answer="reject" style="flex:1;padding:10px;border:0;border-radius:6px;background:#f2f2f2">取消</button>'
                + '<button data-answer="accept" style="flex:1;padding:10px;border:0;border-radius:6px;background:#07c160;color:#fff">允许</button></div></div>';
              sheet.addEventListener('click', function (e) {
                var a = e.target && e.target.getAttribute && e.target.getAttribute('data-answer');
                if (!a) return;
                document.body.removeChild(sheet);
                done(a);
              });
              document.body.appendChild(sheet);
            };
            window.customElements.define('wx-open-subscribe', class extends HTMLElement {
              connectedCallback() {
                if (this.shadowRoot) return;
                var root = this.attachShadow({ mode: 'open' });
                var html = '';
                this.querySelectorAll('script[type="text/wxtag-template"]').forEach(function (s) { html += s.textContent; });
                root.innerHTML = html;
                var self = this;
                root.addEventListener('click', function () {
                  var ids = (self.getAttribute('template') || '').split(',').map(function (s) { return s.trim(); }).filter(Boolean);
                  if (state !== 'ok' || !configured || (configured.openTagList || []).indexOf('wx-open-subscribe') < 0) {
                    fire(self, 'error', { errCode: 10001, errMsg: 'subscribe:fail, open tag not configured' });
                    return;
                  }
                  if (ids.length === 0) { fire(self, 'error', { errCode: 10001, errMsg: 'subscribe:fail, no template' }); return; }
                  ask(ids, function (answer) {
                    var details = {};
                    ids.forEach(function (id) { details[id] = JSON.stringify({ status: answer }); });
                    post('/sim/subscribe/popups', { templateIds: ids, status: answer, page: location.href }).then(function () {}, function () {});
                    fire(self, 'success', { errMsg: 'subscribe:ok', subscribeDetails: JSON.stringify(details) });
                  });
                });
              }
            });
          }
""";
}
