using System.ComponentModel.DataAnnotations;

namespace Dmh.Platform.Redis;

public sealed class RedisOptions
{
    public const string SectionName = "Redis";

    /// <summary>
    /// StackExchange.Redis configuration string with the service's ACL user, e.g.
    /// <c>127.0.0.1:6390,user=dmh-ingress,password=…</c> (redis/users.acl lists each user's rights).
    /// </summary>
    [Required(ErrorMessage = "Redis:Configuration is required (e.g. 127.0.0.1:6390).")]
    public string Configuration { get; set; } = "";

    /// <summary>
    /// Prepended to every key DMH uses. Empty in production; tests give each run its own prefix.
    /// Use a hash tag such as <c>{dmh}</c> to keep the streams on one Redis Cluster slot.
    /// </summary>
    [RegularExpression(@"^[A-Za-z0-9:_{}\-]*$", ErrorMessage = "Redis:KeyPrefix may contain only letters, digits and :_-{}.")]
    public string KeyPrefix { get; set; } = "";
}
