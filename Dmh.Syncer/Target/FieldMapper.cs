using System.Globalization;
using System.Text.Json;

namespace Dmh.Syncer.Target;

/// <summary>Turns a DMH source row (column name → value) into target column values by a <see cref="TableMapping"/>.</summary>
public sealed class FieldMapper
{
    public const string FormDataPrefix = "form_data.";

    public static readonly IReadOnlySet<string> OrderSources = new HashSet<string>(StringComparer.Ordinal)
    {
        "id", "campaign_id", "participant_id", "phone", "form_data", "channel_id", "referrer_id", "status", "amount",
        "pay_status", "trade_no", "paid_at", "registration_code", "created_at",
        "campaign.name", "participant.referral_code", "participant.openid", "referrer.phone",
    };

    public static readonly IReadOnlySet<string> RewardSources = new HashSet<string>(StringComparer.Ordinal)
    {
        "id", "user_id", "order_id", "campaign_id", "amount", "status", "settled_at", "created_at",
        "participant.phone", "participant.referral_code", "campaign.name", "order.phone",
    };

    /// <summary>A reversal: <c>amount</c> is the part of the reward it took back (yuan, positive).</summary>
    public static readonly IReadOnlySet<string> ReversalSources = new HashSet<string>(StringComparer.Ordinal)
    {
        "id", "reward_id", "order_id", "refund_id", "user_id", "campaign_id", "amount", "reason", "created_at",
        "refund.out_refund_no", "participant.phone", "participant.referral_code", "campaign.name", "order.phone",
    };

    private readonly (string Source, string Column)[] _fields;

    public FieldMapper(TableMapping mapping)
    {
        Mapping = mapping;
        _fields = mapping.Fields.Where(f => !string.IsNullOrEmpty(f.Value)).OrderBy(f => f.Value, StringComparer.Ordinal)
            .Select(f => (f.Key, f.Value)).ToArray();
        Columns = [mapping.KeyColumn, .. _fields.Select(f => f.Column)];
    }

    public TableMapping Mapping { get; }

    /// <summary>Target columns; the DMH id column first.</summary>
    public IReadOnlyList<string> Columns { get; }

    public static bool IsKnownSource(IReadOnlySet<string> sources, string source) =>
        sources.Contains(source) || (source.StartsWith(FormDataPrefix, StringComparison.Ordinal) && source.Length > FormDataPrefix.Length);

    public object?[] Map(long id, IReadOnlyDictionary<string, object?> row)
    {
        var values = new object?[Columns.Count];
        values[0] = id;
        JsonDocument? form = null;
        try
        {
            for (var i = 0; i < _fields.Length; i++)
            {
                var source = _fields[i].Source;
                if (source.StartsWith(FormDataPrefix, StringComparison.Ordinal))
                {
                    form ??= row.TryGetValue("form_data", out var json) && json is string s && s.Length > 0 ? JsonDocument.Parse(s) : null;
                    values[i + 1] = form is null ? null : FromJson(form.RootElement, source[FormDataPrefix.Length..]);
                }
                else
                {
                    values[i + 1] = row.TryGetValue(source, out var v) && v is not DBNull ? v : null;
                }
            }
        }
        finally
        {
            form?.Dispose();
        }

        return values;
    }

    private static object? FromJson(JsonElement root, string path)
    {
        var current = root;
        foreach (var part in path.Split('.'))
        {
            if (current.ValueKind == JsonValueKind.Object && current.TryGetProperty(part, out var next))
            {
                current = next;
            }
            else if (current.ValueKind == JsonValueKind.Array && int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var index) && index < current.GetArrayLength())
            {
                current = current[index];
            }
            else
            {
                return null;
            }
        }

        return current.ValueKind switch
        {
            JsonValueKind.String => current.GetString(),
            JsonValueKind.Number => current.TryGetDecimal(out var d) ? d : current.GetDouble().ToString(CultureInfo.InvariantCulture),
            JsonValueKind.True => "true",
            JsonValueKind.False => "false",
            JsonValueKind.Null or JsonValueKind.Undefined => null,
            _ => current.GetRawText(),
        };
    }
}
