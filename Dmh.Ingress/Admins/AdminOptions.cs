using System.ComponentModel.DataAnnotations;

namespace Dmh.Ingress.Admins;

/// <summary>Admin accounts: the first admin and sign-in throttling.</summary>
public sealed class AdminOptions
{
    public const string SectionName = "Admin";

    /// <summary>Username of the admin created at first start when admin_users is empty.</summary>
    public string? InitialUser { get; set; }

    /// <summary>Its password (from configuration, never the repository).</summary>
    public string? InitialPassword { get; set; }

    /// <summary>BCrypt work factor; tests may lower it.</summary>
    [Range(4, 16)]
    public int BcryptWorkFactor { get; set; } = 11;

    /// <summary>
    /// Failed sign-ins of one username from one client IP that cost nothing. From this count on, the
    /// next attempt from that IP waits <see cref="BackoffBaseSeconds"/>, doubling with each further failure.
    /// </summary>
    [Range(1, 1_000_000)]
    public int FailuresBeforeBackoff { get; set; } = 5;

    [Range(1, 3600)]
    public int BackoffBaseSeconds { get; set; } = 1;

    [Range(1, 86_400)]
    public int MaxBackoffSeconds { get; set; } = 900;

    /// <summary>Failed sign-ins from one client IP, any usernames, within the window before 429.</summary>
    [Range(1, 1_000_000)]
    public int MaxFailuresPerIp { get; set; } = 20;

    /// <summary>The per-IP window; also how long after its backoff ends a (username, IP) count is forgotten.</summary>
    [Range(1, 86_400)]
    public int FailureWindowSeconds { get; set; } = 900;
}
