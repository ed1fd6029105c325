using System.Text.Json;
using Dmh.Ingress.Campaigns;
using Dmh.Ingress.Forms;
using Dmh.Ingress.Http;

namespace Dmh.UnitTests.Ingress.Forms;

public sealed class FormSchemaValidatorTests
{
    private const string Good = """
        { "type": "object", "required": ["name"],
          "properties": {
            "name": { "type": "string", "title": "姓名", "minLength": 1, "maxLength": 20, "x-widget": "text", "x-order": 1 },
            "age": { "type": "integer", "title": "年龄", "minimum": 1, "maximum": 120, "x-widget": "number" },
            "email": { "type": "string", "title": "邮箱", "format": "email", "x-widget": "email" },
            "city": { "type": "string", "title": "城市", "enum": ["北京", "上海"], "x-widget": "select" },
            "tags": { "type": "array", "title": "兴趣", "items": { "type": "string", "enum": ["a", "b"] }, "minItems": 1, "x-widget": "checkbox" },
            "code": { "type": "string", "title": "编号", "pattern": "^[A-Z]{3}$" } } }
        """;

    [Fact]
    public void A_schema_within_the_supported_subset_passes()
    {
        Assert.Empty(Errors(Good));
    }

    [Theory]
    [InlineData("""{"type":"object","properties":{"phone":{"type":"string","title":"手机"}}}""", "formSchema.properties.phone")]
    [InlineData("""{"type":"object","properties":{"a":{"type":"string","title":"A","pattern":"(["}}}""", "formSchema.properties.a.pattern")]
    [InlineData("""{"type":"object","properties":{"a":{"type":"string","title":"A","pattern":"^(a+)\\1$"}}}""", "formSchema.properties.a.pattern")]
    [InlineData("""{"type":"object","properties":{"a":{"type":"string","title":"A","pattern":"^(?!x).*$"}}}""", "formSchema.properties.a.pattern")]
    [InlineData("""{"type":"object","properties":{"a":{"type":"string","title":"A","pattern":"((a{100}){100})"}}}""", "formSchema.properties.a.pattern")]
    [InlineData("""{"type":"object","properties":{"a":{"type":"boolean","title":"A"}}}""", "formSchema.properties.a.type")]
    [InlineData("""{"type":"object","properties":{"a":{"type":"string"}}}""", "formSchema.properties.a.title")]
    [InlineData("""{"type":"object","properties":{"a":{"type":"string","title":"A","$ref":"#"}}}""", "formSchema.properties.a.$ref")]
    [InlineData("""{"type":"object","properties":{"a":{"type":"string","title":"A","x-widget":"slider"}}}""", "formSchema.properties.a.x-widget")]
    [InlineData("""{"type":"object","properties":{"a":{"type":"string","title":"A","minLength":5,"maxLength":2}}}""", "formSchema.properties.a.minLength")]
    [InlineData("""{"type":"object","properties":{"a":{"type":"array","title":"A"}}}""", "formSchema.properties.a.items")]
    [InlineData("""{"type":"object","required":["b"],"properties":{"a":{"type":"string","title":"A"}}}""", "formSchema.required")]
    [InlineData("""{"type":"array"}""", "formSchema.type")]
    [InlineData("""{"type":"object","allOf":[]}""", "formSchema.allOf")]
    [InlineData("""[]""", "formSchema")]
    public void Unsupported_or_broken_schemas_name_the_field(string schema, string field)
    {
        Assert.Contains(field, Errors(schema).Keys);
    }

    [Fact]
    public void Too_many_fields_are_refused()
    {
        var props = string.Join(",", Enumerable.Range(0, FormSchemaValidator.MaxFields + 1).Select(i => $"\"f{i}\":{{\"type\":\"string\",\"title\":\"F\"}}"));
        Assert.Contains("formSchema.properties", Errors($"{{\"type\":\"object\",\"properties\":{{{props}}}}}").Keys);
    }

    [Theory]
    [InlineData(1000, "fixed", 1000L, null, true)]
    [InlineData(1000, "fixed", 1001L, null, false)]
    [InlineData(1000, "percentage", null, 10000, true)]
    [InlineData(1000, "percentage", null, 0, false)]
    [InlineData(1000, "percentage", null, 10001, false)]
    [InlineData(1000, "bonus", 1L, null, false)]
    public void Reward_rules_are_checked_against_the_price(long priceFen, string type, long? amountFen, int? bps, bool valid)
    {
        var errors = new FieldErrors();
        CampaignRules.ValidateMoney(priceFen, new RewardInput(type, amountFen, bps), errors);
        Assert.Equal(valid, !errors.Any);
    }

    [Fact]
    public void Status_follows_the_time_window()
    {
        var start = new DateTime(2026, 12, 1, 0, 0, 0, DateTimeKind.Utc);
        var end = start.AddDays(10);
        Assert.Equal("scheduled", CampaignStatus.Derive("published", start, end, start.AddSeconds(-1)));
        Assert.Equal("active", CampaignStatus.Derive("published", start, end, start));
        Assert.Equal("ended", CampaignStatus.Derive("published", start, end, end));
        Assert.Equal("draft", CampaignStatus.Derive("draft", start, end, start));
        Assert.Equal("disabled", CampaignStatus.Derive("disabled", start, end, start));
    }

    private static Dictionary<string, string[]> Errors(string json)
    {
        var errors = new FieldErrors();
        FormSchemaValidator.Validate(JsonDocument.Parse(json).RootElement, errors);
        return errors.ToDictionary();
    }
}
