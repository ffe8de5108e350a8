window.YTD.tweets.part0 = [
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1967943115078170447"
          ],
          "editableUntil" : "2025-09-16T14:26:15.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "107"
      ],
      "favorite_count" : "55",
      "id_str" : "1967943115078170447",
      "truncated" : false,
      "retweet_count" : "11",
      "id" : "1967943115078170447",
      "created_at" : "Tue Sep 16 13:26:15 +0000 2025",
      "favorited" : false,
      "full_text" : "tbh the most senior thing I do all week is end a 40-message Slack debate by writing one paragraph in a doc.",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1960248235240342507"
          ],
          "editableUntil" : "2025-08-26T08:49:33.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"http://twitter.com/download/android\" rel=\"nofollow\">Twitter for Android</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "70"
      ],
      "favorite_count" : "22",
      "id_str" : "1960248235240342507",
      "truncated" : false,
      "retweet_count" : "1",
      "id" : "1960248235240342507",
      "created_at" : "Tue Aug 26 07:49:33 +0000 2025",
      "favorited" : false,
      "full_text" : "New bike lights. 1,200 lumens. Drivers see me now. So do satellites. 🚲",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1942616506006612414"
          ],
          "editableUntil" : "2025-07-08T17:07:21.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "105"
      ],
      "favorite_count" : "67",
      "id_str" : "1942616506006612414",
      "truncated" : false,
      "retweet_count" : "16",
      "id" : "1942616506006612414",
      "created_at" : "Tue Jul 08 16:07:21 +0000 2025",
      "favorited" : false,
      "full_text" : "The hardest part of a small team isn't the workload. It's that everyone knows when you skipped the tests.",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1937446673712669995"
          ],
          "editableUntil" : "2025-06-24T10:44:17.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : false
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [
          {
            "name" : "Maya Lindqvist",
            "screen_name" : "mayabuilds",
            "indices" : [
              "0",
              "11"
            ],
            "id_str" : "1029384756",
            "id" : "1029384756"
          }
        ],
        "urls" : []
      },
      "display_text_range" : [
        "12",
        "84"
      ],
      "favorite_count" : "64",
      "in_reply_to_status_id_str" : "1937446293601866613",
      "id_str" : "1937446673712669995",
      "in_reply_to_user_id" : "1029384756",
      "truncated" : false,
      "retweet_count" : "13",
      "id" : "1937446673712669995",
      "in_reply_to_status_id" : "1937446293601866613",
      "created_at" : "Tue Jun 24 09:44:17 +0000 2025",
      "favorited" : false,
      "full_text" : "@mayabuilds 4/ Would I trade it for a team of 20? Ask me after my next on-call week.",
      "lang" : "en",
      "in_reply_to_screen_name" : "mayabuilds",
      "in_reply_to_user_id_str" : "1029384756"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1937446293601866613"
          ],
          "editableUntil" : "2025-06-24T10:42:47.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : false
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [
          {
            "name" : "Maya Lindqvist",
            "screen_name" : "mayabuilds",
            "indices" : [
              "0",
              "11"
            ],
            "id_str" : "1029384756",
            "id" : "1029384756"
          }
        ],
        "urls" : []
      },
      "display_text_range" : [
        "12",
        "161"
      ],
      "favorite_count" : "62",
      "in_reply_to_status_id_str" : "1937445988424587757",
      "id_str" : "1937446293601866613",
      "in_reply_to_user_id" : "1029384756",
      "truncated" : false,
      "retweet_count" : "5",
      "id" : "1937446293601866613",
      "in_reply_to_status_id" : "1937445988424587757",
      "created_at" : "Tue Jun 24 09:42:47 +0000 2025",
      "favorited" : false,
      "full_text" : "@mayabuilds 3/ Things that are harder: holidays. One person away is 25% of the team. We plan leave like we plan migrations. Early, written down, with a rollback.",
      "lang" : "en",
      "in_reply_to_screen_name" : "mayabuilds",
      "in_reply_to_user_id_str" : "1029384756"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1937445988424587757"
          ],
          "editableUntil" : "2025-06-24T10:41:34.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : false
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [
          {
            "name" : "Maya Lindqvist",
            "screen_name" : "mayabuilds",
            "indices" : [
              "0",
              "11"
            ],
            "id_str" : "1029384756",
            "id" : "1029384756"
          }
        ],
        "urls" : []
      },
      "display_text_range" : [
        "12",
        "94"
      ],
      "favorite_count" : "24",
      "in_reply_to_status_id_str" : "1937445593153901755",
      "id_str" : "1937445988424587757",
      "in_reply_to_user_id" : "1029384756",
      "truncated" : false,
      "retweet_count" : "1",
      "id" : "1937445988424587757",
      "in_reply_to_status_id" : "1937445593153901755",
      "created_at" : "Tue Jun 24 09:41:34 +0000 2025",
      "favorited" : false,
      "full_text" : "@mayabuilds 2/\n→ one repo\n→ one database\n→ one deploy pipeline\n→ anyone can roll back anything",
      "lang" : "en",
      "in_reply_to_screen_name" : "mayabuilds",
      "in_reply_to_user_id_str" : "1029384756"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1937445593153901755"
          ],
          "editableUntil" : "2025-06-24T10:40:00.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "89"
      ],
      "favorite_count" : "115",
      "id_str" : "1937445593153901755",
      "truncated" : false,
      "retweet_count" : "28",
      "id" : "1937445593153901755",
      "created_at" : "Tue Jun 24 09:40:00 +0000 2025",
      "favorited" : false,
      "full_text" : "1/ We've been 4 backend engineers for 3 years. Things that only work because we're small:",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1932406341710970248"
          ],
          "editableUntil" : "2025-06-10T12:55:48.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "92"
      ],
      "favorite_count" : "66",
      "id_str" : "1932406341710970248",
      "truncated" : false,
      "retweet_count" : "1",
      "id" : "1932406341710970248",
      "created_at" : "Tue Jun 10 11:55:48 +0000 2025",
      "favorited" : false,
      "full_text" : "Every quick fix I've shipped at 3 a.m. got fixed again at 10 a.m. by a calmer version of me.",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1924770698847359324"
          ],
          "editableUntil" : "2025-05-20T11:14:29.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "86"
      ],
      "favorite_count" : "42",
      "id_str" : "1924770698847359324",
      "truncated" : false,
      "retweet_count" : "2",
      "id" : "1924770698847359324",
      "created_at" : "Tue May 20 10:14:29 +0000 2025",
      "favorited" : false,
      "full_text" : "Upgraded to Postgres 17 on a Tuesday morning. Nothing happened. Boring is a feature. 🐘",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1912229719789411741"
          ],
          "editableUntil" : "2025-04-15T20:41:07.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "181"
      ],
      "favorite_count" : "166",
      "id_str" : "1912229719789411741",
      "truncated" : false,
      "retweet_count" : "15",
      "id" : "1912229719789411741",
      "created_at" : "Tue Apr 15 19:41:07 +0000 2025",
      "favorited" : false,
      "full_text" : "My mentoring rule this year: I don't answer a question until they've written down what they tried. Not to be difficult. Half the time they answer it while writing. What's your rule?",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1904449130415339135"
          ],
          "editableUntil" : "2025-03-25T09:23:50.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : [
          {
            "url" : "https://t.co/59vSDlYNpw",
            "expanded_url" : "https://mayabuilds.dev/listen-notify-is-enough/",
            "display_url" : "mayabuilds.dev/listen-not…",
            "indices" : [
              "108",
              "131"
            ]
          }
        ]
      },
      "display_text_range" : [
        "0",
        "131"
      ],
      "favorite_count" : "68",
      "id_str" : "1904449130415339135",
      "truncated" : false,
      "retweet_count" : "3",
      "id" : "1904449130415339135",
      "possibly_sensitive" : false,
      "created_at" : "Tue Mar 25 08:23:50 +0000 2025",
      "favorited" : false,
      "full_text" : "Replaced a polling loop with LISTEN/NOTIFY. p95 job pickup went from 2.1 s to 40 ms. About 60 lines of Go → https://t.co/59vSDlYNpw",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1896893442724808246"
          ],
          "editableUntil" : "2025-03-04T13:00:13.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "51"
      ],
      "favorite_count" : "60",
      "id_str" : "1896893442724808246",
      "truncated" : false,
      "retweet_count" : "7",
      "id" : "1896893442724808246",
      "created_at" : "Tue Mar 04 12:00:13 +0000 2025",
      "favorited" : false,
      "full_text" : "Short one: write the rollback before the migration.",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1894295778400013128"
          ],
          "editableUntil" : "2025-02-25T08:58:02.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : false
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [
          {
            "name" : "slow commuter",
            "screen_name" : "slowcommuter",
            "indices" : [
              "3",
              "16"
            ],
            "id_str" : "2233445566",
            "id" : "2233445566"
          }
        ],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "141"
      ],
      "favorite_count" : "0",
      "id_str" : "1894295778400013128",
      "truncated" : false,
      "retweet_count" : "124",
      "id" : "1894295778400013128",
      "created_at" : "Tue Feb 25 07:58:02 +0000 2025",
      "favorited" : false,
      "full_text" : "RT @slowcommuter: Ten years of riding to work. Things I've learned: fenders are non-negotiable, rain is mostly a state of mind, and every dr…",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1889374529729852888"
          ],
          "editableUntil" : "2025-02-11T19:02:45.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "114"
      ],
      "favorite_count" : "24",
      "id_str" : "1889374529729852888",
      "truncated" : false,
      "retweet_count" : "5",
      "id" : "1889374529729852888",
      "created_at" : "Tue Feb 11 18:02:45 +0000 2025",
      "favorited" : false,
      "full_text" : "Postgres has had LISTEN/NOTIFY since before some of my colleagues were born. It is enough. It was always enough. 🐘",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1879086163331588029"
          ],
          "editableUntil" : "2025-01-14T09:40:27.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : [
          {
            "url" : "https://t.co/Lt593WKruj",
            "expanded_url" : "https://mayabuilds.dev/on-call-on-a-ten-person-team/",
            "display_url" : "mayabuilds.dev/on-call-on…",
            "indices" : [
              "135",
              "158"
            ]
          }
        ]
      },
      "display_text_range" : [
        "0",
        "158"
      ],
      "favorite_count" : "99",
      "id_str" : "1879086163331588029",
      "truncated" : false,
      "retweet_count" : "21",
      "id" : "1879086163331588029",
      "possibly_sensitive" : false,
      "created_at" : "Tue Jan 14 08:40:27 +0000 2025",
      "favorited" : false,
      "full_text" : "On-call when the whole company is 10 engineers: how we keep it fair, what we pay for it, and why the rotation is 6 people and not 10 → https://t.co/Lt593WKruj",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1868951773668544614"
          ],
          "editableUntil" : "2024-12-17T10:30:00.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "167"
      ],
      "favorite_count" : "53",
      "id_str" : "1868951773668544614",
      "truncated" : false,
      "retweet_count" : "6",
      "id" : "1868951773668544614",
      "created_at" : "Tue Dec 17 09:30:00 +0000 2024",
      "favorited" : false,
      "full_text" : "2024 in numbers:\n→ 1 database, 1 replica, 1 index I'm proud of\n→ 14 pages, 1 at night\n→ 5,210 km 🚲\n→ 3 juniors promoted\n\nThat last one is the only number I care about.",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1858877529771079090"
          ],
          "editableUntil" : "2024-11-19T15:18:34.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "159"
      ],
      "favorite_count" : "84",
      "id_str" : "1858877529771079090",
      "truncated" : false,
      "retweet_count" : "12",
      "id" : "1858877529771079090",
      "created_at" : "Tue Nov 19 14:18:34 +0000 2024",
      "favorited" : false,
      "full_text" : "Things that are boring and correct:\n→ a table with a status column\n→ a cron job with a lock\n→ a runbook with screenshots\n→ going home at 5\n\nWhat would you add?",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1843564717928090807"
          ],
          "editableUntil" : "2024-10-08T09:10:55.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : [
          {
            "url" : "https://t.co/ovxZSj0Hhs",
            "expanded_url" : "https://mayabuilds.dev/saying-no-to-a-rewrite/",
            "display_url" : "mayabuilds.dev/saying-no-…",
            "indices" : [
              "95",
              "118"
            ]
          }
        ]
      },
      "display_text_range" : [
        "0",
        "118"
      ],
      "favorite_count" : "100",
      "id_str" : "1843564717928090807",
      "truncated" : false,
      "retweet_count" : "9",
      "id" : "1843564717928090807",
      "possibly_sensitive" : false,
      "created_at" : "Tue Oct 08 08:10:55 +0000 2024",
      "favorited" : false,
      "full_text" : "Someone proposed a rewrite. I said no. Then I wrote down why, so it wasn't just me saying no → https://t.co/ovxZSj0Hhs",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1833839151162157364"
          ],
          "editableUntil" : "2024-09-11T13:04:59.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : false
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [
          {
            "name" : "pager penguin",
            "screen_name" : "pagerpenguin",
            "indices" : [
              "0",
              "13"
            ],
            "id_str" : "887766554433221100",
            "id" : "887766554433221100"
          }
        ],
        "urls" : []
      },
      "display_text_range" : [
        "14",
        "123"
      ],
      "favorite_count" : "11",
      "in_reply_to_status_id_str" : "1833600079818606310",
      "id_str" : "1833839151162157364",
      "in_reply_to_user_id" : "887766554433221100",
      "truncated" : false,
      "retweet_count" : "0",
      "id" : "1833839151162157364",
      "in_reply_to_status_id" : "1833600079818606310",
      "created_at" : "Wed Sep 11 12:04:59 +0000 2024",
      "favorited" : false,
      "full_text" : "@pagerpenguin Tubeless, yes. Converted in June last year. 0 flats since. Don't tell my bike, it'll find a new way to break.",
      "lang" : "en",
      "in_reply_to_screen_name" : "pagerpenguin",
      "in_reply_to_user_id_str" : "887766554433221100"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1833441838576683731"
          ],
          "editableUntil" : "2024-09-10T10:46:12.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"http://twitter.com/download/android\" rel=\"nofollow\">Twitter for Android</a>",
      "entities" : {
        "hashtags" : [
          {
            "text" : "bikecommute",
            "indices" : [
              "145",
              "157"
            ]
          }
        ],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "157"
      ],
      "favorite_count" : "67",
      "id_str" : "1833441838576683731",
      "truncated" : false,
      "retweet_count" : "15",
      "id" : "1833441838576683731",
      "created_at" : "Tue Sep 10 09:46:12 +0000 2024",
      "favorited" : false,
      "full_text" : "Broke a spoke on the way in. Walked the last 3 km. Used the time to rewrite a design doc intro in my head. Better than the original, honestly. 🚲 #bikecommute",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1825819471098587086"
          ],
          "editableUntil" : "2024-08-20T09:57:38.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : [
          {
            "url" : "https://t.co/QIapTwUGnH",
            "expanded_url" : "https://mayabuilds.dev/pgbouncer-transaction-mode-gotchas/",
            "display_url" : "mayabuilds.dev/pgbouncer-…",
            "indices" : [
              "121",
              "144"
            ]
          }
        ]
      },
      "display_text_range" : [
        "0",
        "144"
      ],
      "favorite_count" : "205",
      "id_str" : "1825819471098587086",
      "truncated" : false,
      "retweet_count" : "11",
      "id" : "1825819471098587086",
      "possibly_sensitive" : false,
      "created_at" : "Tue Aug 20 08:57:38 +0000 2024",
      "favorited" : false,
      "full_text" : "PgBouncer in transaction mode: the three things that will bite you, and the one config line we argued about for a week → https://t.co/QIapTwUGnH",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1810637032407059890"
          ],
          "editableUntil" : "2024-07-09T12:28:03.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "112"
      ],
      "favorite_count" : "41",
      "id_str" : "1810637032407059890",
      "truncated" : false,
      "retweet_count" : "5",
      "id" : "1810637032407059890",
      "created_at" : "Tue Jul 09 11:28:03 +0000 2024",
      "favorited" : false,
      "full_text" : "A new hire asked why we don't use microservices. I drew our whole system on a napkin. It fit. That's the answer.",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1797985012123827759"
          ],
          "editableUntil" : "2024-06-04T14:33:26.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "70"
      ],
      "favorite_count" : "25",
      "id_str" : "1797985012123827759",
      "truncated" : false,
      "retweet_count" : "5",
      "id" : "1797985012123827759",
      "created_at" : "Tue Jun 04 13:33:26 +0000 2024",
      "favorited" : false,
      "full_text" : "tbh most \"scaling problems\" I've seen were a missing index and a loop.",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1790333774204390331"
          ],
          "editableUntil" : "2024-05-14T11:50:09.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [
          {
            "text" : "oncall",
            "indices" : [
              "103",
              "110"
            ]
          }
        ],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "110"
      ],
      "favorite_count" : "62",
      "id_str" : "1790333774204390331",
      "truncated" : false,
      "retweet_count" : "9",
      "id" : "1790333774204390331",
      "created_at" : "Tue May 14 10:50:09 +0000 2024",
      "favorited" : false,
      "full_text" : "The best on-call week is the one where you get bored. We just had 3 of those in a row. I'm suspicious. #oncall",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1780206175715158602"
          ],
          "editableUntil" : "2024-04-16T13:06:41.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "132"
      ],
      "favorite_count" : "23",
      "id_str" : "1780206175715158602",
      "truncated" : false,
      "retweet_count" : "1",
      "id" : "1780206175715158602",
      "created_at" : "Tue Apr 16 12:06:41 +0000 2024",
      "favorited" : false,
      "full_text" : "Rule of thumb for our API:\n→ p99 &gt; 1 s: a user noticed\n→ p99 &gt; 5 s: a user wrote to support\n→ p99 &gt; 30 s: a user wrote to my manager",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1772672858292576845"
          ],
          "editableUntil" : "2024-03-26T18:11:58.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "153"
      ],
      "favorite_count" : "135",
      "id_str" : "1772672858292576845",
      "truncated" : false,
      "retweet_count" : "20",
      "id" : "1772672858292576845",
      "created_at" : "Tue Mar 26 17:11:58 +0000 2024",
      "favorited" : false,
      "full_text" : "Asked a junior to review my PR. She found two bugs. Best review I got all quarter. Your juniors are better reviewers than you think. Are you asking them?",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1764928712641142490"
          ],
          "editableUntil" : "2024-03-05T09:19:30.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [
          {
            "text" : "postgres",
            "indices" : [
              "115",
              "124"
            ]
          }
        ],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : [
          {
            "url" : "https://t.co/jnt0LlgRRN",
            "expanded_url" : "https://mayabuilds.dev/statement-timeout-is-a-seatbelt/",
            "display_url" : "mayabuilds.dev/statement-…",
            "indices" : [
              "91",
              "114"
            ]
          }
        ]
      },
      "display_text_range" : [
        "0",
        "124"
      ],
      "favorite_count" : "174",
      "id_str" : "1764928712641142490",
      "truncated" : false,
      "retweet_count" : "13",
      "id" : "1764928712641142490",
      "possibly_sensitive" : false,
      "created_at" : "Tue Mar 05 08:19:30 +0000 2024",
      "favorited" : false,
      "full_text" : "statement_timeout is a seatbelt. You don't notice it until the day you really, really do → https://t.co/jnt0LlgRRN #postgres",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1762389081112884541"
          ],
          "editableUntil" : "2024-02-27T09:07:55.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : false
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [
          {
            "name" : "Maya Lindqvist",
            "screen_name" : "mayabuilds",
            "indices" : [
              "0",
              "11"
            ],
            "id_str" : "1029384756",
            "id" : "1029384756"
          }
        ],
        "urls" : []
      },
      "display_text_range" : [
        "12",
        "60"
      ],
      "favorite_count" : "31",
      "in_reply_to_status_id_str" : "1762388697061974676",
      "id_str" : "1762389081112884541",
      "in_reply_to_user_id" : "1029384756",
      "truncated" : false,
      "retweet_count" : "7",
      "id" : "1762389081112884541",
      "in_reply_to_status_id" : "1762388697061974676",
      "created_at" : "Tue Feb 27 08:07:55 +0000 2024",
      "favorited" : false,
      "full_text" : "@mayabuilds Then I go for a ride and delete a third of it. 🚲",
      "lang" : "en",
      "in_reply_to_screen_name" : "mayabuilds",
      "in_reply_to_user_id_str" : "1029384756"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1762388697061974676"
          ],
          "editableUntil" : "2024-02-27T09:06:23.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : false
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [
          {
            "name" : "Maya Lindqvist",
            "screen_name" : "mayabuilds",
            "indices" : [
              "0",
              "11"
            ],
            "id_str" : "1029384756",
            "id" : "1029384756"
          }
        ],
        "urls" : []
      },
      "display_text_range" : [
        "12",
        "141"
      ],
      "favorite_count" : "41",
      "in_reply_to_status_id_str" : "1762388343931492239",
      "id_str" : "1762388697061974676",
      "in_reply_to_user_id" : "1029384756",
      "truncated" : false,
      "retweet_count" : "7",
      "id" : "1762388697061974676",
      "in_reply_to_status_id" : "1762388343931492239",
      "created_at" : "Tue Feb 27 08:06:23 +0000 2024",
      "favorited" : false,
      "full_text" : "@mayabuilds Sitting 3: how it fails, how we roll back, how we know it worked. The section everyone skips. The only one I reread a year later.",
      "lang" : "en",
      "in_reply_to_screen_name" : "mayabuilds",
      "in_reply_to_user_id_str" : "1029384756"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1762388343931492239"
          ],
          "editableUntil" : "2024-02-27T09:04:59.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : false
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [
          {
            "name" : "Maya Lindqvist",
            "screen_name" : "mayabuilds",
            "indices" : [
              "0",
              "11"
            ],
            "id_str" : "1029384756",
            "id" : "1029384756"
          }
        ],
        "urls" : []
      },
      "display_text_range" : [
        "12",
        "136"
      ],
      "favorite_count" : "38",
      "in_reply_to_status_id_str" : "1762387976219060336",
      "id_str" : "1762388343931492239",
      "in_reply_to_user_id" : "1029384756",
      "truncated" : false,
      "retweet_count" : "7",
      "id" : "1762388343931492239",
      "in_reply_to_status_id" : "1762387976219060336",
      "created_at" : "Tue Feb 27 08:04:59 +0000 2024",
      "favorited" : false,
      "full_text" : "@mayabuilds Sitting 2: two options, honestly. Not one real option and a strawman. Reviewers can smell a strawman from across the office.",
      "lang" : "en",
      "in_reply_to_screen_name" : "mayabuilds",
      "in_reply_to_user_id_str" : "1029384756"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1762387976219060336"
          ],
          "editableUntil" : "2024-02-27T09:03:31.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : false
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [
          {
            "name" : "Maya Lindqvist",
            "screen_name" : "mayabuilds",
            "indices" : [
              "0",
              "11"
            ],
            "id_str" : "1029384756",
            "id" : "1029384756"
          }
        ],
        "urls" : []
      },
      "display_text_range" : [
        "12",
        "150"
      ],
      "favorite_count" : "43",
      "in_reply_to_status_id_str" : "1762387592687698426",
      "id_str" : "1762387976219060336",
      "in_reply_to_user_id" : "1029384756",
      "truncated" : false,
      "retweet_count" : "6",
      "id" : "1762387976219060336",
      "in_reply_to_status_id" : "1762387592687698426",
      "created_at" : "Tue Feb 27 08:03:31 +0000 2024",
      "favorited" : false,
      "full_text" : "@mayabuilds Sitting 1: problem, constraints, what we're not doing. No solution yet. If I can't state the problem in 5 sentences I don't understand it.",
      "lang" : "en",
      "in_reply_to_screen_name" : "mayabuilds",
      "in_reply_to_user_id_str" : "1029384756"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1762387592687698426"
          ],
          "editableUntil" : "2024-02-27T09:02:00.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "40"
      ],
      "favorite_count" : "120",
      "id_str" : "1762387592687698426",
      "truncated" : false,
      "retweet_count" : "7",
      "id" : "1762387592687698426",
      "created_at" : "Tue Feb 27 08:02:00 +0000 2024",
      "favorited" : false,
      "full_text" : "How I write a design doc, in 3 sittings:",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1754799028727942950"
          ],
          "editableUntil" : "2024-02-06T10:27:45.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "109"
      ],
      "favorite_count" : "75",
      "id_str" : "1754799028727942950",
      "truncated" : false,
      "retweet_count" : "11",
      "id" : "1754799028727942950",
      "created_at" : "Tue Feb 06 09:27:45 +0000 2024",
      "favorited" : false,
      "full_text" : "Coffee #2. Reading EXPLAIN ANALYZE output like it's a novel. The twist: it was a sequential scan all along. ☕",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1747175680879006810"
          ],
          "editableUntil" : "2024-01-16T09:35:17.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : [
          {
            "url" : "https://t.co/fFJLda9rmw",
            "expanded_url" : "https://mayabuilds.dev/one-database-two-years-later/",
            "display_url" : "mayabuilds.dev/one-databa…",
            "indices" : [
              "83",
              "106"
            ]
          }
        ]
      },
      "display_text_range" : [
        "0",
        "106"
      ],
      "favorite_count" : "119",
      "id_str" : "1747175680879006810",
      "truncated" : false,
      "retweet_count" : "19",
      "id" : "1747175680879006810",
      "possibly_sensitive" : false,
      "created_at" : "Tue Jan 16 08:35:17 +0000 2024",
      "favorited" : false,
      "full_text" : "Two years on one database. The numbers, two regrets, and what I'd do differently → https://t.co/fFJLda9rmw",
      "lang" : "en"
    }
  }
]
