// Package admin will own the admin console and its JSON API. Empty until its
// issue is filed.
package admin
